//! Lines of the log families an SRE meets on real machines, written in our
//! own words from knowledge of each program's formats (nothing copied from a
//! log corpus): syslog-framed daemons (sshd, PAM, sudo, su, cron, systemd,
//! the kernel), web servers and proxies, databases and caches, container
//! runtimes and orchestrators, JVM and Python services with stack traces,
//! and big-data and cloud services (HDFS, YARN, Spark, ZooKeeper, Kafka,
//! OpenStack). Each template carries the label an operator would give it.
//!
//! The timestamps, hosts and ids vary as they do in real files, so the model
//! learns the words that carry the meaning, not the framing.

use super::Rng;

/// One family template: its source, its label, and how to write a line.
pub type Template = (&'static str, &'static str, fn(&mut Rng) -> String);

const MON: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DOW: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const HOSTS: [&str; 8] = ["web-01", "db-2", "ip-10-0-3-17", "node7", "edge-fra-3", "build-host", "k8s-worker-4", "mail"];
const USERS: [&str; 10] = ["deploy", "ubuntu", "jsmith", "maria", "backup", "git", "ops", "www-data", "postgres", "kiran"];
const BAD_USERS: [&str; 8] = ["admin", "test", "oracle", "pi", "support", "user1", "ftpuser", "guest"];

fn hms(r: &mut Rng) -> String {
    format!("{:02}:{:02}:{:02}", r.below(24), r.below(60), r.below(60))
}
fn sys(r: &mut Rng, prog: &str) -> String {
    let (m, d, t, h, pid) = (r.pick(&MON), r.range(1, 28), hms(r), r.pick(&HOSTS), r.range(200, 60000));
    format!("{m} {d:>2} {t} {h} {prog}[{pid}]: ")
}
fn sys_nopid(r: &mut Rng, prog: &str) -> String {
    let (m, d, t, h) = (r.pick(&MON), r.range(1, 28), hms(r), r.pick(&HOSTS));
    format!("{m} {d:>2} {t} {h} {prog}: ")
}
fn iso(r: &mut Rng) -> String {
    format!("20{}-{:02}-{:02} {}", r.range(23, 26), r.range(1, 12), r.range(1, 28), hms(r))
}
fn isot(r: &mut Rng) -> String {
    format!("20{}-{:02}-{:02}T{}.{:03}Z", r.range(23, 26), r.range(1, 12), r.range(1, 28), hms(r), r.below(1000))
}
fn ctime(r: &mut Rng) -> String {
    format!("{} {} {:02} {}.{:06} 20{}", r.pick(&DOW), r.pick(&MON), r.range(1, 28), hms(r), r.below(1_000_000), r.range(23, 26))
}
fn clf(r: &mut Rng) -> String {
    format!("{:02}/{}/20{}:{} +0000", r.range(1, 28), r.pick(&MON), r.range(23, 26), hms(r))
}
fn user(r: &mut Rng) -> &'static str {
    r.pick(&USERS)
}
fn port(r: &mut Rng) -> u64 {
    r.range(32768, 60999)
}
fn url(r: &mut Rng) -> String {
    let p = r.pick(&[
        "/",
        "/index.html",
        "/api/v1/orders",
        "/login",
        "/static/app.js",
        "/health",
        "/images/logo.png",
        "/wp-admin/",
        "/search?q=shoes",
        "/.git/config",
    ]);
    p.to_string()
}
fn java_trace(r: &mut Rng, exc: &str, msg: &str) -> String {
    let pkg = r.pick(&["com.shop.orders", "org.acme.billing", "io.corp.ingest"]);
    format!(
        "{exc}: {msg}\n\tat {pkg}.Service.handle(Service.java:{})\n\tat {pkg}.Worker.run(Worker.java:{})\n\tat java.base/java.lang.Thread.run(Thread.java:840)",
        r.range(20, 400),
        r.range(20, 200)
    )
}
fn py_trace(r: &mut Rng, exc: &str) -> String {
    format!(
        "Traceback (most recent call last):\n  File \"/srv/app/{}.py\", line {}, in {}\n    {}\n{exc}",
        r.pick(&["worker", "views", "tasks", "api"]),
        r.range(10, 600),
        r.pick(&["handle", "process", "run_job"]),
        r.pick(&["result = payload[\"id\"]", "total = amount / count", "row = rows[idx]"])
    )
}

/// Every template, in a fixed order (the generator picks among them).
pub fn templates() -> Vec<Template> {
    vec![
        // sshd / PAM / sudo / su
        ("sshd", "Security Alert", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            let p = port(r);
            format!("{s}Failed password for {} from {ip} port {p} ssh2", r.pick(&USERS))
        }),
        ("sshd", "Security Alert", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            let p = port(r);
            format!("{s}Failed password for invalid user {} from {ip} port {p} ssh2", r.pick(&BAD_USERS))
        }),
        ("sshd", "Security Alert", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            format!("{s}Invalid user {} from {ip} port {}", r.pick(&BAD_USERS), port(r))
        }),
        ("sshd", "Security Alert", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            format!("{s}error: maximum authentication attempts exceeded for root from {ip} port {} ssh2 [preauth]", port(r))
        }),
        ("sshd", "Security Alert", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            format!(
                "{s}pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={}",
                r.pick(&USERS)
            )
        }),
        ("sshd", "Security Alert", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            format!("{s}Connection closed by invalid user {} {ip} port {} [preauth]", r.pick(&BAD_USERS), port(r))
        }),
        ("sshd", "Security Alert", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            format!("{s}error: kex_exchange_identification: banner line contains invalid characters from {ip}")
        }),
        ("sshd", "User Action", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            let p = port(r);
            format!("{s}Accepted {} for {} from {ip} port {p} ssh2", r.pick(&["password", "publickey"]), user(r))
        }),
        ("sshd", "User Action", |r| {
            let s = sys(r, "sshd");
            format!("{s}pam_unix(sshd:session): session opened for user {}(uid={}) by (uid=0)", user(r), r.range(1000, 1100))
        }),
        ("sshd", "User Action", |r| {
            let s = sys(r, "sshd");
            format!("{s}pam_unix(sshd:session): session closed for user {}", user(r))
        }),
        ("sshd", "User Action", |r| {
            let s = sys(r, "sshd");
            let ip = r.ip();
            format!("{s}Disconnected from user {} {ip} port {}", user(r), port(r))
        }),
        ("sshd", "System Notification", |r| {
            let s = sys(r, "sshd");
            format!("{s}Server listening on {} port 22.", r.pick(&["0.0.0.0", "::"]))
        }),
        ("sshd", "Deprecation Warning", |r| {
            let s = sys(r, "sshd");
            format!(
                "{s}/etc/ssh/sshd_config line {}: Deprecated option {}",
                r.range(10, 140),
                r.pick(&["UseLogin", "UsePrivilegeSeparation", "KeyRegenerationInterval", "ServerKeyBits"])
            )
        }),
        ("sudo", "User Action", |r| {
            let s = sys_nopid(r, "sudo");
            format!(
                "{s}   {} : TTY=pts/{} ; PWD=/home/{} ; USER=root ; COMMAND=/usr/bin/{}",
                user(r),
                r.below(9),
                user(r),
                r.pick(&["systemctl restart nginx", "apt upgrade", "journalctl -u app", "vim /etc/hosts"])
            )
        }),
        ("sudo", "Security Alert", |r| {
            let s = sys_nopid(r, "sudo");
            format!(
                "{s}   {} : {} incorrect password attempts ; TTY=pts/{} ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash",
                user(r),
                r.range(1, 3),
                r.below(9)
            )
        }),
        ("sudo", "Security Alert", |r| {
            let s = sys_nopid(r, "sudo");
            format!(
                "{s}   {} : user NOT in sudoers ; TTY=pts/{} ; PWD=/home ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
                r.pick(&BAD_USERS),
                r.below(9)
            )
        }),
        ("su", "User Action", |r| {
            let s = sys(r, "su");
            format!("{s}(to {}) {} on pts/{}", r.pick(&["root", "postgres", "deploy"]), user(r), r.below(9))
        }),
        ("su", "Security Alert", |r| {
            let s = sys(r, "su");
            format!("{s}FAILED SU (to root) {} on pts/{}", user(r), r.below(9))
        }),
        ("passwd", "User Action", |r| {
            let s = sys(r, "passwd");
            format!("{s}pam_unix(passwd:chauthtok): password changed for {}", user(r))
        }),
        ("useradd", "User Action", |r| {
            let s = sys(r, "useradd");
            format!(
                "{s}new user: name={}, UID={}, GID={}, home=/home/{}, shell=/bin/bash",
                user(r),
                r.range(1000, 1100),
                r.range(1000, 1100),
                user(r)
            )
        }),
        ("usermod", "User Action", |r| {
            let s = sys(r, "usermod");
            format!("{s}add '{}' to group '{}'", user(r), r.pick(&["docker", "adm", "sudo", "www-data"]))
        }),
        // cron / systemd / kernel
        ("cron", "System Notification", |r| {
            let s = sys(r, "CRON");
            format!(
                "{s}({}) CMD ({})",
                r.pick(&["root", "backup"]),
                r.pick(&["/usr/local/bin/backup.sh", "run-parts /etc/cron.hourly", "certbot renew -q", "/usr/lib/php/sessionclean"])
            )
        }),
        ("cron", "System Notification", |r| {
            let s = sys(r, "CRON");
            format!("{s}pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
        }),
        ("cron", "Error", |r| {
            let s = sys(r, "cron");
            format!("{s}(*system*{}) ERROR (Syntax error, this crontab file will be ignored)", r.pick(&["backup", "php", "old-job"]))
        }),
        ("systemd", "System Notification", |r| {
            let s = sys(r, "systemd");
            format!(
                "{s}Started {}.",
                r.pick(&[
                    "nginx.service - A high performance web server",
                    "Daily apt upgrade and clean activities",
                    "Session 42 of User deploy",
                    "Rotate log files",
                    "PostgreSQL RDBMS"
                ])
            )
        }),
        ("systemd", "System Notification", |r| {
            let s = sys(r, "systemd");
            format!("{s}{}: Deactivated successfully.", r.pick(&["logrotate.service", "apt-daily.service", "man-db.service"]))
        }),
        ("systemd", "Error", |r| {
            let s = sys(r, "systemd");
            format!(
                "{s}{}: Main process exited, code=exited, status={}/FAILURE",
                r.pick(&["app-worker.service", "exporter.service", "sync.service"]),
                r.range(1, 3)
            )
        }),
        ("systemd", "Critical Error", |r| {
            let s = sys(r, "systemd");
            format!(
                "{s}Failed to start {}.",
                r.pick(&["Docker Application Container Engine", "The Apache HTTP Server", "Postfix Mail Transport Agent"])
            )
        }),
        ("kernel", "Critical Error", |r| {
            let s = sys_nopid(r, "kernel");
            format!(
                "{s}[{}.{:06}] Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB",
                r.range(1000, 99999),
                r.below(1_000_000),
                r.range(300, 60000),
                r.pick(&["java", "mysqld", "node"]),
                r.range(100000, 9000000),
                r.range(100000, 900000)
            )
        }),
        ("kernel", "Critical Error", |r| {
            let s = sys_nopid(r, "kernel");
            format!(
                "{s}EXT4-fs error (device {}): ext4_find_entry:{}: inode #{}: comm {}: reading directory lblock 0",
                r.pick(&["sda1", "nvme0n1p1"]),
                r.range(1000, 1700),
                r.range(2, 900000),
                r.pick(&["rsync", "postgres"])
            )
        }),
        ("kernel", "Critical Error", |r| {
            let s = sys_nopid(r, "kernel");
            format!(
                "{s}blk_update_request: I/O error, dev {}, sector {} op 0x1:(WRITE)",
                r.pick(&["sdb", "sdc", "nvme1n1"]),
                r.range(1000, 999999999)
            )
        }),
        ("kernel", "Security Alert", |r| {
            let s = sys_nopid(r, "kernel");
            let ip = r.ip();
            format!(
                "{s}[UFW BLOCK] IN=eth0 OUT= SRC={ip} DST=10.0.0.5 PROTO=TCP SPT={} DPT={}",
                port(r),
                r.pick(&["22", "3389", "23", "445"])
            )
        }),
        ("kernel", "Security Alert", |r| {
            let s = sys_nopid(r, "kernel");
            format!(
                "{s}audit: type=1400 apparmor=\"DENIED\" operation=\"open\" profile=\"{}\" name=\"/etc/shadow\" pid={}",
                r.pick(&["/usr/sbin/nginx", "snap.app"]),
                r.range(300, 60000)
            )
        }),
        ("kernel", "Resource Usage", |r| {
            let s = sys_nopid(r, "kernel");
            format!("{s}TCP: request_sock_TCP: Possible SYN flooding on port {}. Sending cookies.", r.pick(&["80", "443"]))
        }),
        ("kernel", "System Notification", |r| {
            let s = sys_nopid(r, "kernel");
            format!("{s}{} link is up, {} Mbps full duplex", r.pick(&["eth0", "ens5", "bond0"]), r.pick(&["1000", "10000"]))
        }),
        // web servers and proxies
        ("nginx", "HTTP Status", |r| {
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
        // databases and caches
        ("postgres", "Security Alert", |r| {
            let t = iso(r);
            format!(
                "{t}.{:03} UTC [{}] {}@{} FATAL:  password authentication failed for user \"{}\"",
                r.below(1000),
                r.range(100, 60000),
                r.pick(&BAD_USERS),
                r.pick(&["app", "postgres"]),
                r.pick(&BAD_USERS)
            )
        }),
        ("postgres", "Error", |r| {
            let t = iso(r);
            format!(
                "{t}.{:03} UTC [{}] app@shop ERROR:  {}",
                r.below(1000),
                r.range(100, 60000),
                r.pick(&[
                    "relation \"orderz\" does not exist at character 15",
                    "duplicate key value violates unique constraint \"users_email_key\"",
                    "deadlock detected",
                    "canceling statement due to statement timeout"
                ])
            )
        }),
        ("postgres", "Resource Usage", |r| {
            let t = iso(r);
            format!("{t}.{:03} UTC [{}] app@shop LOG:  duration: {}.{:03} ms  statement: SELECT * FROM {} WHERE created_at > now() - interval '30 days'", r.below(1000), r.range(100, 60000), r.range(500, 90000), r.below(1000), r.pick(&["orders", "events", "audit_log"]))
        }),
        ("postgres", "Resource Usage", |r| {
            let t = iso(r);
            format!("{t}.{:03} UTC [{}] FATAL:  sorry, too many clients already", r.below(1000), r.range(100, 60000))
        }),
        ("postgres", "Critical Error", |r| {
            let t = iso(r);
            format!(
                "{t}.{:03} UTC [{}] LOG:  server process (PID {}) was terminated by signal {}: {}",
                r.below(1000),
                r.range(100, 60000),
                r.range(100, 60000),
                r.pick(&["9", "11"]),
                r.pick(&["Killed", "Segmentation fault"])
            )
        }),
        ("postgres", "Critical Error", |r| {
            let t = iso(r);
            format!(
                "{t}.{:03} UTC [{}] PANIC:  could not write to file \"pg_wal/xlogtemp.{}\": No space left on device",
                r.below(1000),
                r.range(100, 60000),
                r.range(100, 60000)
            )
        }),
        ("postgres", "System Notification", |r| {
            let t = iso(r);
            format!(
                "{t}.{:03} UTC [{}] LOG:  {}",
                r.below(1000),
                r.range(100, 60000),
                r.pick(&[
                    "database system is ready to accept connections",
                    "checkpoint starting: time",
                    "received fast shutdown request",
                    "database system is shut down",
                    "automatic vacuum of table \"shop.public.orders\": index scans: 1"
                ])
            )
        }),
        ("postgres", "User Action", |r| {
            let t = iso(r);
            format!(
                "{t}.{:03} UTC [{}] {}@shop LOG:  connection authorized: user={} database=shop",
                r.below(1000),
                r.range(100, 60000),
                user(r),
                user(r)
            )
        }),
        ("mysqld", "Error", |r| {
            let t = isot(r);
            format!(
                "{t} {} [ERROR] [MY-{:06}] [Server] {}",
                r.range(1, 90),
                r.range(10000, 13999),
                r.pick(&[
                    "Got an error reading communication packets",
                    "Table './shop/orders' is marked as crashed and should be repaired",
                    "Aborted connection 88 to db: 'shop' user: 'app' (Got timeout reading communication packets)"
                ])
            )
        }),
        ("mysqld", "Security Alert", |r| {
            let t = isot(r);
            let ip = r.ip();
            format!(
                "{t} {} [Warning] [MY-010055] [Server] Access denied for user '{}'@'{ip}' (using password: YES)",
                r.range(1, 90),
                r.pick(&BAD_USERS)
            )
        }),
        ("mysqld", "Deprecation Warning", |r| {
            let t = isot(r);
            format!("{t} 0 [Warning] [MY-011068] [Server] The syntax '{}' is deprecated and will be removed in a future release. Please use {} instead.", r.pick(&["--skip-host-cache", "expire-logs-days", "log_slave_updates"]), r.pick(&["SET GLOBAL host_cache_size=0", "binlog_expire_logs_seconds", "log_replica_updates"]))
        }),
        ("redis", "System Notification", |r| {
            format!(
                "{}:M {:02} {} 20{} {}.{:03} * {}",
                r.range(1, 9000),
                r.range(1, 28),
                r.pick(&MON),
                r.range(23, 26),
                hms(r),
                r.below(1000),
                r.pick(&[
                    "Ready to accept connections tcp",
                    "DB saved on disk",
                    "Background saving started by pid 812",
                    "Background saving terminated with success"
                ])
            )
        }),
        ("redis", "Resource Usage", |r| {
            format!(
                "{}:M {:02} {} 20{} {}.{:03} # {}",
                r.range(1, 9000),
                r.range(1, 28),
                r.pick(&MON),
                r.range(23, 26),
                hms(r),
                r.below(1000),
                r.pick(&[
                    "WARNING: The TCP backlog setting of 511 cannot be enforced because somaxconn is set to the lower value of 128.",
                    "Fork CoW for RDB: current 4 MB, peak 4 MB, average 2 MB",
                    "WARNING Memory overcommit must be enabled!"
                ])
            )
        }),
        ("redis", "Error", |r| {
            format!(
                "{}:S {:02} {} 20{} {}.{:03} # Error condition on socket for SYNC: {}",
                r.range(1, 9000),
                r.range(1, 28),
                r.pick(&MON),
                r.range(23, 26),
                hms(r),
                r.below(1000),
                r.pick(&["Connection refused", "No route to host"])
            )
        }),
        ("mongod", "Error", |r| {
            let t = isot(r);
            format!("{{\"t\":{{\"$date\":\"{t}\"}},\"s\":\"E\",\"c\":\"NETWORK\",\"id\":{},\"ctx\":\"conn{}\",\"msg\":\"Error receiving request from client\",\"attr\":{{\"error\":\"ProtocolError\"}}}}", r.range(20000, 29999), r.range(1, 900))
        }),
        // containers and orchestrators
        ("kubelet", "Error", |r| {
            let s = sys(r, "kubelet");
            format!("{s}E{:02}{:02} {}.{:06} {} pod_workers.go:{}] \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"{}\\\" with CrashLoopBackOff\"", r.range(1, 12), r.range(1, 28), hms(r), r.below(1_000_000), r.range(100, 9000), r.range(100, 1300), r.pick(&["api", "worker", "migrate"]))
        }),
        ("kubelet", "Resource Usage", |r| {
            let s = sys(r, "kubelet");
            format!(
                "{s}I{:02}{:02} {} eviction_manager.go:{}] \"Eviction manager: attempting to reclaim\" resourceName=\"{}\"",
                r.range(1, 12),
                r.range(1, 28),
                hms(r),
                r.range(300, 400),
                r.pick(&["memory", "ephemeral-storage", "nodefs"])
            )
        }),
        ("kube-scheduler", "Resource Usage", |r| {
            format!("I{:02}{:02} {} 1 schedule_one.go:{}] \"Unable to schedule pod; no fit; waiting\" pod=\"default/web-{}\" err=\"0/{} nodes are available: {} Insufficient cpu, {} Insufficient memory.\"", r.range(1, 12), r.range(1, 28), hms(r), r.range(800, 1000), r.hex(5), r.range(3, 9), r.range(1, 3), r.range(1, 3))
        }),
        ("containerd", "System Notification", |r| {
            let t = isot(r);
            format!(
                "time=\"{t}\" level=info msg=\"{}\" id={}",
                r.pick(&[
                    "starting containerd",
                    "shim disconnected",
                    "StartContainer returns successfully",
                    "PullImage \"nginx:1.25\" returns image reference"
                ]),
                r.hex(12)
            )
        }),
        ("dockerd", "Error", |r| {
            let t = isot(r);
            format!(
                "time=\"{t}\" level=error msg=\"Handler for POST /v1.43/containers/{}/start returned error: {}\"",
                r.hex(12),
                r.pick(&[
                    "driver failed programming external connectivity: port is already allocated",
                    "OCI runtime create failed: exec: \\\"/app/run\\\": permission denied"
                ])
            )
        }),
        ("kube-apiserver", "Deprecation Warning", |r| {
            format!(
                "W{:02}{:02} {} 1 warnings.go:70] {} is deprecated in v1.{}+, unavailable in v1.{}+; use {}",
                r.range(1, 12),
                r.range(1, 28),
                hms(r),
                r.pick(&["policy/v1beta1 PodSecurityPolicy", "batch/v1beta1 CronJob", "autoscaling/v2beta2 HorizontalPodAutoscaler"]),
                r.range(21, 25),
                r.range(25, 29),
                r.pick(&["policy/v1", "batch/v1", "autoscaling/v2"])
            )
        }),
        ("kubelet", "Critical Error", |r| {
            let s = sys(r, "kubelet");
            format!("{s}E{:02}{:02} {} {} kubelet.go:{}] \"Node became not ready\" node=\"{}\" condition={{Type:Ready Status:False Reason:KubeletNotReady Message:container runtime is down}}", r.range(1, 12), r.range(1, 28), hms(r), r.range(100, 9000), r.range(2000, 2900), r.pick(&HOSTS))
        }),
        // JVM and Python services
        ("app-jvm", "Error", |r| {
            let t = iso(r);
            let tr = java_trace(r, "java.lang.IllegalArgumentException", "amount must be positive");
            format!("{t},{:03} ERROR [http-nio-8080-exec-{}] c.s.o.OrderController - Request failed\n{tr}", r.below(1000), r.range(1, 20))
        }),
        ("app-jvm", "Critical Error", |r| {
            let t = iso(r);
            let tr = java_trace(r, "java.lang.OutOfMemoryError", "Java heap space");
            format!("{t},{:03} ERROR [main] o.s.b.SpringApplication - Application run failed\n{tr}", r.below(1000))
        }),
        ("app-jvm", "Deprecation Warning", |r| {
            let t = iso(r);
            format!(
                "{t},{:03} WARN  [main] o.h.o.deprecation - HHH{}: {} is deprecated; use {} instead",
                r.below(1000),
                r.range(90000000, 90009999),
                r.pick(&["hibernate.dialect MySQL5Dialect", "the 'spring.redis.*' properties", "javax.persistence.* settings"]),
                r.pick(&["MySQLDialect", "'spring.data.redis.*'", "jakarta.persistence.*"])
            )
        }),
        ("app-jvm", "Resource Usage", |r| {
            let t = iso(r);
            format!("{t},{:03} WARN  [HikariPool-1 housekeeper] c.z.h.p.HikariPool - HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta={}s)", r.below(1000), r.range(30, 300))
        }),
        ("app-python", "Error", |r| {
            let t = iso(r);
            let tr = py_trace(r, "KeyError: 'id'");
            format!("{t},{:03} ERROR worker: task {} failed\n{tr}", r.below(1000), r.hex(8))
        }),
        ("app-python", "Deprecation Warning", |r| {
            let t = iso(r);
            format!(
                "{t},{:03} WARNING py.warnings: /srv/app/{}.py:{}: DeprecationWarning: {} is deprecated, use {} instead",
                r.below(1000),
                r.pick(&["db", "util"]),
                r.range(3, 300),
                r.pick(&["datetime.datetime.utcnow()", "pkg_resources", "asyncio.get_event_loop()"]),
                r.pick(&["datetime.now(UTC)", "importlib.metadata", "asyncio.get_running_loop()"])
            )
        }),
        ("app-python", "User Action", |r| {
            let t = iso(r);
            format!(
                "{t},{:03} INFO audit: user {} {}",
                r.below(1000),
                user(r),
                r.pick(&["logged in", "logged out", "changed their email address", "exported 250 invoices", "created project atlas"])
            )
        }),
        ("app-python", "Workflow Error", |r| {
            let t = iso(r);
            format!(
                "{t},{:03} ERROR orders: order {} cannot be {}: {}",
                r.below(1000),
                r.range(1000, 99999),
                r.pick(&["shipped", "invoiced", "refunded"]),
                r.pick(&["customer has no shipping address", "approval from a manager is missing", "payment method on file was removed"])
            )
        }),
        // big-data and cloud services
        ("hdfs-datanode", "System Notification", |r| {
            format!(
                "{}{:02}{:02} {} {} INFO dfs.DataNode$DataXceiver: Receiving block blk_{} src: /{}:{} dest: /{}:50010",
                r.range(23, 26),
                r.range(1, 12),
                r.range(1, 28),
                hms(r).replace(':', ""),
                r.range(1, 9000),
                r.range(1_000_000_000, 9_999_999_999),
                r.ip(),
                port(r),
                r.ip()
            )
        }),
        ("hdfs-datanode", "Error", |r| {
            format!("{}{:02}{:02} {} {} WARN dfs.DataNode$DataXceiver: {}:Got exception while serving blk_{} to /{}: java.io.IOException: Connection reset by peer", r.range(23, 26), r.range(1, 12), r.range(1, 28), hms(r).replace(':', ""), r.range(1, 9000), r.ip(), r.range(1_000_000_000, 9_999_999_999), r.ip())
        }),
        ("hdfs-namenode", "Resource Usage", |r| {
            format!(
                "{} INFO org.apache.hadoop.hdfs.server.namenode.FSNamesystem: Capacity {} GB, used {} GB ({}%), remaining {} GB",
                iso(r),
                r.range(1000, 90000),
                r.range(100, 9000),
                r.range(10, 99),
                r.range(10, 9000)
            )
        }),
        ("yarn", "Error", |r| {
            format!("{} WARN org.apache.hadoop.yarn.server.nodemanager.containermanager.launcher.ContainerLaunch: Container container_{}_{:04}_01_{:06} exited with a non-zero exit code {}", iso(r), r.range(1_600_000_000_000, 1_700_000_000_000), r.range(1, 999), r.range(1, 999), r.pick(&["1", "137", "143"]))
        }),
        ("yarn", "Resource Usage", |r| {
            format!("{} WARN org.apache.hadoop.yarn.server.nodemanager.containermanager.monitor.ContainersMonitorImpl: Container [pid={},containerID=container_{}_{:04}_01_{:06}] is running beyond physical memory limits. Current usage: {} GB of {} GB physical memory used", iso(r), r.range(100, 60000), r.range(1_600_000_000_000, 1_700_000_000_000), r.range(1, 999), r.range(1, 999), r.range(2, 9), r.range(1, 2))
        }),
        ("spark", "System Notification", |r| {
            format!(
                "{}/{:02}/{:02} {} INFO {}",
                r.range(23, 26),
                r.range(1, 12),
                r.range(1, 28),
                hms(r),
                r.pick(&[
                    "executor.Executor: Finished task 3.0 in stage 7.0 (TID 211). 2103 bytes result sent to driver",
                    "storage.BlockManager: Found block rdd_42_3 locally",
                    "scheduler.DAGScheduler: Job 12 finished: count at Report.scala:88"
                ])
            )
        }),
        ("spark", "Resource Usage", |r| {
            format!("{}/{:02}/{:02} {} INFO storage.MemoryStore: Block broadcast_{} stored as values in memory (estimated size {}.{} KB, free {}.{} GB)", r.range(23, 26), r.range(1, 12), r.range(1, 28), hms(r), r.range(1, 99), r.range(1, 900), r.below(10), r.range(1, 30), r.below(10))
        }),
        ("spark", "Critical Error", |r| {
            format!(
                "{}/{:02}/{:02} {} ERROR scheduler.TaskSchedulerImpl: Lost executor {} on {}: {}",
                r.range(23, 26),
                r.range(1, 12),
                r.range(1, 28),
                hms(r),
                r.range(1, 40),
                r.pick(&HOSTS),
                r.pick(&["Container killed by YARN for exceeding memory limits", "Remote RPC client disassociated"])
            )
        }),
        ("zookeeper", "System Notification", |r| {
            format!(
                "{},{:03} - INFO  [QuorumPeer[myid={}]/0.0.0.0:2181:Leader@{}] - {}",
                iso(r),
                r.below(1000),
                r.range(1, 5),
                r.range(400, 600),
                r.pick(&[
                    "LEADING - LEADER ELECTION TOOK - 212 MS",
                    "Have quorum of supporters; starting up and setting last processed zxid"
                ])
            )
        }),
        ("zookeeper", "Error", |r| {
            format!("{},{:03} - WARN  [RecvWorker:{}:QuorumCnxManager$RecvWorker@{}] - Connection broken for id {}, my id = {}, error = java.io.EOFException", iso(r), r.below(1000), r.range(1, 5), r.range(700, 800), r.range(1, 5), r.range(1, 5))
        }),
        ("kafka", "Critical Error", |r| {
            format!("[{},{:03}] ERROR [ReplicaManager broker={}] Error processing append operation on partition {}-{} (kafka.server.ReplicaManager)\norg.apache.kafka.common.errors.KafkaStorageException: Disk error when trying to access log file on the disk.", iso(r), r.below(1000), r.range(0, 5), r.pick(&["orders", "payments", "clicks"]), r.range(0, 12))
        }),
        ("nova-compute", "Resource Usage", |r| {
            format!("{}.{:03} {} INFO nova.compute.resource_tracker [req-{}] Final resource view: name={} phys_ram={}MB used_ram={}MB phys_disk={}GB used_disk={}GB total_vcpus={} used_vcpus={}", iso(r), r.below(1000), r.range(1000, 9000), r.uuid(), r.pick(&HOSTS), r.range(16000, 512000), r.range(512, 16000), r.range(100, 2000), r.range(1, 100), r.range(8, 96), r.range(0, 8))
        }),
        ("keystone", "Security Alert", |r| {
            format!("{}.{:03} {} WARNING keystone.common.wsgi [req-{}] Authorization failed. The request you have made requires authentication. from {}", iso(r), r.below(1000), r.range(1000, 9000), r.uuid(), r.ip())
        }),
        ("postfix", "Error", |r| {
            let s = sys(r, "postfix/smtp");
            format!("{s}{}: to=<{}@{}>, relay=none, delay={}, delays=0/0/{}/0, dsn=4.4.1, status=deferred (connect to {}[{}]:25: Connection timed out)", r.hex(10).to_uppercase(), user(r), r.pick(&["example.net", "corp.example"]), r.range(1, 90), r.range(1, 30), r.pick(&["mx.example.net", "mail.corp.example"]), r.ip())
        }),
        ("postfix", "System Notification", |r| {
            let s = sys(r, "postfix/local");
            format!(
                "{s}{}: to=<{}@{}>, relay=local, delay=0.{}, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)",
                r.hex(10).to_uppercase(),
                user(r),
                r.pick(&HOSTS),
                r.range(1, 99)
            )
        }),
        ("dovecot", "Security Alert", |r| {
            let s = sys_nopid(r, "dovecot");
            let ip = r.ip();
            format!(
                "{s}imap-login: Disconnected (auth failed, {} attempts in {} secs): user=<{}>, method=PLAIN, rip={ip}, lip=10.0.0.2, TLS",
                r.range(1, 5),
                r.range(2, 30),
                r.pick(&BAD_USERS)
            )
        }),
        ("dovecot", "User Action", |r| {
            let s = sys_nopid(r, "dovecot");
            let ip = r.ip();
            format!("{s}imap-login: Login: user=<{}>, method=PLAIN, rip={ip}, lip=10.0.0.2, mpid={}, TLS", user(r), r.range(100, 60000))
        }),
        ("fail2ban", "Security Alert", |r| {
            format!("{},{:03} fail2ban.actions        [{}]: NOTICE  [sshd] Ban {}", iso(r), r.below(1000), r.range(100, 9000), r.ip())
        }),
    ]
}
