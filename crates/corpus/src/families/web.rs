//! The family templates of web servers and proxies.

use super::*;

/// nginx.
pub(super) fn nginx() -> Vec<Template> {
    vec![
        ("nginx", "HTTP Status", |r| {
            // The combined log format, Apache's before it was nginx's default.
            r.imitates(COMBINED_LOG);
            let ip = r.ip();
            let t = clf(r);
            let u = url(r);
            format!(
                "{ip} - - [{t}] \"{} {u} HTTP/1.1\" {} {} \"-\" \"{}\"",
                r.pick(&["GET", "POST", "HEAD"]),
                r.pick(&["200", "304", "404", "502", "301", "403", "500"]),
                r.range(0, 90000),
                r.pick(&["curl/8.5.0", "Mozilla/5.0", "Go-http-client/1.1"])
            )
        }),
        ("nginx", "Error", |r| {
            let t = iso(r).replace('-', "/");
            let ip = r.ip();
            format!("{t} [error] {}#{}: *{} connect() failed (111: Connection refused) while connecting to upstream, client: {ip}, server: _, request: \"GET /api/ HTTP/1.1\", upstream: \"http://127.0.0.1:{}/api/\"", r.range(100, 9000), r.below(8), r.range(1, 99999), r.pick(&["3000", "8000", "9000"]))
        }),
        ("nginx", "Error", |r| {
            let t = iso(r).replace('-', "/");
            let ip = r.ip();
            format!(
                "{t} [error] {}#{}: *{} open() \"/var/www/html{}\" failed (2: No such file or directory), client: {ip}",
                r.range(100, 9000),
                r.below(8),
                r.range(1, 99999),
                r.pick(&["/favicon.ico", "/robots.txt", "/old.php"])
            )
        }),
        ("nginx", "Error", |r| {
            let t = iso(r).replace('-', "/");
            format!(
                "{t} [error] {}#{}: *{} upstream timed out (110: Connection timed out) while reading response header from upstream",
                r.range(100, 9000),
                r.below(8),
                r.range(1, 99999)
            )
        }),
        ("nginx", "Resource Usage", |r| {
            let t = iso(r).replace('-', "/");
            format!(
                "{t} [alert] {}#{}: {} worker_connections are not enough",
                r.range(100, 9000),
                r.below(8),
                r.pick(&["512", "768", "1024"])
            )
        }),
        ("nginx", "Critical Error", |r| {
            let t = iso(r).replace('-', "/");
            format!(
                "{t} [alert] {}#{}: worker process {} exited on signal {}",
                r.range(100, 9000),
                r.below(8),
                r.range(100, 9000),
                r.pick(&["9", "11"])
            )
        }),
        ("nginx", "Security Alert", |r| {
            let t = iso(r).replace('-', "/");
            let ip = r.ip();
            format!(
                "{t} [error] {}#{}: *{} limiting requests, excess: {}.{} by zone \"api\", client: {ip}",
                r.range(100, 9000),
                r.below(8),
                r.range(1, 99999),
                r.range(5, 90),
                r.below(1000)
            )
        }),
        ("nginx", "Deprecation Warning", |r| {
            let t = iso(r).replace('-', "/");
            format!(
                "{t} [warn] {}#{}: the \"{}\" directive is deprecated, use the \"{}\" directive instead in /etc/nginx/conf.d/site.conf:{}",
                r.range(100, 9000),
                r.below(8),
                r.pick(&["ssl", "http2", "listen ... http2"]),
                r.pick(&["listen ... ssl", "http2"]),
                r.range(3, 90)
            )
        }),
        ("nginx", "System Notification", |r| {
            let t = iso(r).replace('-', "/");
            format!(
                "{t} [notice] {}#{}: {}",
                r.range(100, 9000),
                r.below(8),
                r.pick(&["signal process started", "start worker processes", "gracefully shutting down", "reconfiguring"])
            )
        }),
    ]
}

/// apache.
pub(super) fn apache() -> Vec<Template> {
    vec![
        ("apache", "HTTP Status", |r| {
            let ip = r.ip();
            let t = clf(r);
            let u = url(r);
            format!(
                "{ip} - {} [{t}] \"GET {u} HTTP/1.1\" {} {}",
                r.pick(&["-", "frank"]),
                r.pick(&["200", "404", "500", "302", "401"]),
                r.range(0, 90000)
            )
        }),
        ("apache", "Security Alert", |r| {
            let t = ctime(r);
            let ip = r.ip();
            format!(
                "[{t}] [authz_core:error] [pid {}] [client {ip}:{}] AH01630: client denied by server configuration: /var/www/{}",
                r.range(100, 9000),
                port(r),
                r.pick(&["private", "admin", ".git"])
            )
        }),
        ("apache", "Error", |r| {
            let t = ctime(r);
            let ip = r.ip();
            format!("[{t}] [php:error] [pid {}] [client {ip}:{}] PHP Fatal error:  Uncaught Error: Call to undefined function {}() in /var/www/html/index.php:{}", r.range(100, 9000), port(r), r.pick(&["mysql_connect", "each", "create_function"]), r.range(2, 300))
        }),
        ("apache", "Resource Usage", |r| {
            let t = ctime(r);
            format!("[{t}] [mpm_{}:error] [pid {}] AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting", r.pick(&["prefork", "event"]), r.range(100, 9000))
        }),
        ("apache", "System Notification", |r| {
            let t = ctime(r);
            format!(
                "[{t}] [mpm_event:notice] [pid {}:tid {}] AH00489: Apache/2.4.{} (Unix) configured -- resuming normal operations",
                r.range(100, 9000),
                r.range(100, 9000),
                r.range(40, 62)
            )
        }),
        ("apache", "Critical Error", |r| {
            let t = ctime(r);
            format!(
                "[{t}] [core:notice] [pid {}] AH00052: child pid {} exit signal Segmentation fault (11)",
                r.range(100, 9000),
                r.range(100, 9000)
            )
        }),
    ]
}

/// haproxy.
pub(super) fn haproxy() -> Vec<Template> {
    vec![
        ("haproxy", "HTTP Status", |r| {
            let s = sys(r, "haproxy");
            let ip = r.ip();
            format!(
                "{s}{ip}:{} [{}] www backend/srv{} 0/0/1/{}/{} {} {} - - ---- 3/3/0/0/0 0/0 \"GET {} HTTP/1.1\"",
                port(r),
                clf(r),
                r.range(1, 4),
                r.range(1, 900),
                r.range(1, 900),
                r.pick(&["200", "503", "404"]),
                r.range(100, 9000),
                url(r)
            )
        }),
        ("haproxy", "Error", |r| {
            let s = sys(r, "haproxy");
            format!("{s}Server backend/srv{} is DOWN, reason: Layer7 wrong status, code: 500, check duration: {}ms. {} active and 0 backup servers left.", r.range(1, 4), r.range(1, 50), r.range(1, 3))
        }),
        ("haproxy", "Critical Error", |r| {
            let s = sys(r, "haproxy");
            format!("{s}backend {} has no server available!", r.pick(&["api", "static", "checkout"]))
        }),
    ]
}
