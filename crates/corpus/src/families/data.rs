//! The family templates of databases and caches.

use super::*;

/// postgres.
pub(super) fn postgres() -> Vec<Template> {
    vec![
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
    ]
}

/// mysqld.
pub(super) fn mysqld() -> Vec<Template> {
    vec![
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
    ]
}

/// redis.
pub(super) fn redis() -> Vec<Template> {
    vec![
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
    ]
}

/// mongod.
pub(super) fn mongod() -> Vec<Template> {
    vec![("mongod", "Error", |r| {
        let t = isot(r);
        format!("{{\"t\":{{\"$date\":\"{t}\"}},\"s\":\"E\",\"c\":\"NETWORK\",\"id\":{},\"ctx\":\"conn{}\",\"msg\":\"Error receiving request from client\",\"attr\":{{\"error\":\"ProtocolError\"}}}}", r.range(20000, 29999), r.range(1, 900))
    })]
}
