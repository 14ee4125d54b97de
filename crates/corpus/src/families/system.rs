//! The family templates of cron, systemd and the kernel.

use super::*;

/// cron.
pub(super) fn cron() -> Vec<Template> {
    vec![
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
    ]
}

/// systemd.
pub(super) fn systemd() -> Vec<Template> {
    vec![
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
            format!(
                "{s}{} {}...",
                r.pick(&["Stopping", "Reloading", "Starting"]),
                r.pick(&["nginx.service - A high performance web server", "ssh.service - OpenBSD Secure Shell server", "cron.service"])
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
    ]
}

/// kernel.
pub(super) fn kernel() -> Vec<Template> {
    vec![
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
    ]
}
