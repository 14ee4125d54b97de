//! The ordinary lines of every host, whatever it runs: disks, inodes and
//! quotas filling up, memory, swap and CPU under pressure (in the words of
//! monit, journald and monitoring agents), certificates renewed, expiring or
//! failing to renew (certbot), backups done or failed (restic, backup
//! scripts). Without them, a line such as a full filesystem was read by its
//! path and its number, the marks of an access log.

use super::*;

const MOUNTS: [&str; 8] = ["/", "/var", "/var/lib/docker", "/home", "/srv", "/data", "/boot", "/opt"];
const DEVICES: [&str; 6] = ["/dev/sda1", "/dev/sdb2", "/dev/nvme0n1p2", "/dev/vda1", "/dev/mapper/vg0-root", "/dev/md0"];
const DOMAINS: [&str; 5] = ["www.example.net", "api.example.com", "mail.corp.example", "git.example.io", "status.example.org"];

/// Space, inodes, quotas, memory, swap, CPU and load.
pub(super) fn pressure() -> Vec<Template> {
    vec![
        ("monit", "Resource Usage", |r| {
            let s = sys(r, "monit");
            let fs = r.pick(&["rootfs", "data", "var", "backup"]);
            format!(
                "{s}'{fs}' space usage {}.{}% matches resource limit [space usage > {}.0%]",
                r.range(80, 99),
                r.below(10),
                r.range(75, 90)
            )
        }),
        ("monit", "Resource Usage", |r| {
            let s = sys(r, "monit");
            let host = r.pick(&HOSTS);
            format!(
                "{s}'{host}' mem usage of {}.{}% matches resource limit [mem usage > {}.0%]",
                r.range(80, 99),
                r.below(10),
                r.range(75, 90)
            )
        }),
        ("monit", "Resource Usage", |r| {
            let s = sys(r, "monit");
            let host = r.pick(&HOSTS);
            format!(
                "{s}'{host}' cpu user usage of {}.{}% matches resource limit [cpu user usage > {}.0%]",
                r.range(70, 99),
                r.below(10),
                r.range(60, 90)
            )
        }),
        ("monit", "Resource Usage", |r| {
            let s = sys(r, "monit");
            format!(
                "{s}'{}' inode usage {}.{}% matches resource limit [inode usage > 90.0%]",
                r.pick(&["rootfs", "var", "mail"]),
                r.range(90, 99),
                r.below(10)
            )
        }),
        ("systemd-journald", "Resource Usage", |r| {
            let s = sys(r, "systemd-journald");
            format!(
                "{s}System Journal (/var/log/journal/{}) is {}.{}G, max {}.0G, {}.{}M free.",
                r.hex(32),
                r.range(1, 3),
                r.below(10),
                r.range(3, 4),
                r.range(10, 900),
                r.below(10)
            )
        }),
        ("node-agent", "Resource Usage", |r| {
            let t = isot(r);
            let (m, d) = (r.pick(&MOUNTS), r.pick(&DEVICES));
            let p = r.range(85, 100);
            format!(
                "{t} level=warn check=disk mountpoint={m} device={d} used_percent={p} free_bytes={}",
                r.range(10_000_000, 9_000_000_000)
            )
        }),
        ("node-agent", "Resource Usage", |r| {
            let t = isot(r);
            format!("{t} level=warn check=memory available_percent={} swap_used_percent={}", r.range(1, 12), r.range(30, 99))
        }),
        ("node-agent", "Resource Usage", |r| {
            let t = isot(r);
            format!("{t} level=warn check=load load15={}.{} cpus={}", r.range(4, 40), r.below(100), r.pick(&["2", "4", "8", "16"]))
        }),
        ("kernel", "Resource Usage", |r| {
            let s = sys_nopid(r, "kernel");
            format!(
                "{s}[{}.{:06}] {}: write failed, user block limit reached.",
                r.range(100, 99999),
                r.below(1_000_000),
                r.pick(&["sda1", "vdb1", "dm-0"])
            )
        }),
        ("zabbix", "Resource Usage", |r| {
            let host = r.pick(&HOSTS);
            format!(
                "Problem started at {} on 20{}.{:02}.{:02} Problem name: {}: Disk space is {} (used > {}%) Host: {host} Severity: {}",
                hms(r),
                r.range(24, 26),
                r.range(1, 12),
                r.range(1, 28),
                r.pick(&MOUNTS),
                r.pick(&["low", "critically low"]),
                r.pick(&["80", "90", "95"]),
                r.pick(&["Warning", "Average", "High"])
            )
        }),
        ("nagios", "Resource Usage", |r| {
            let m = r.pick(&MOUNTS);
            format!(
                "DISK {} - free space: {m} {} MB ({}% inode={}%)",
                r.pick(&["WARNING", "CRITICAL"]),
                r.range(10, 4000),
                r.range(1, 15),
                r.range(40, 99)
            )
        }),
        ("df-check", "Resource Usage", |r| {
            let (m, d) = (r.pick(&MOUNTS), r.pick(&DEVICES));
            format!("{m} ({d}) is almost full: {}% used, {} MB left", r.range(90, 100), r.range(1, 2000))
        }),
        ("df-check", "Resource Usage", |r| {
            let (m, d) = (r.pick(&MOUNTS), r.pick(&DEVICES));
            format!(
                "filesystem {d} mounted on {m} is at {}% capacity ({}G of {}G used)",
                r.range(85, 100),
                r.range(20, 900),
                r.range(900, 2000)
            )
        }),
    ]
}

/// Certificates and backups: done, due and failed.
pub(super) fn upkeep() -> Vec<Template> {
    vec![
        ("certbot", "System Notification", |r| {
            let d = r.pick(&DOMAINS);
            format!("Renewing an existing certificate for {d}; new certificate saved at /etc/letsencrypt/live/{d}/fullchain.pem")
        }),
        ("certbot", "System Notification", |r| {
            let d = r.pick(&DOMAINS);
            format!("Certificate not yet due for renewal: /etc/letsencrypt/live/{d}/fullchain.pem expires in {} days", r.range(31, 89))
        }),
        ("cert-check", "System Notification", |r| {
            let d = r.pick(&DOMAINS);
            format!(
                "TLS certificate of {d}:443 will expire on 20{}-{:02}-{:02} ({} days left)",
                r.range(26, 27),
                r.range(1, 12),
                r.range(1, 28),
                r.range(1, 21)
            )
        }),
        ("certbot", "Error", |r| {
            let d = r.pick(&DOMAINS);
            format!(
                "Failed to renew certificate {d} with error: {}",
                r.pick(&["Some challenges have failed.", "Connection refused", "too many certificates already issued"])
            )
        }),
        ("restic", "System Notification", |r| {
            format!(
                "snapshot {} saved; processed {} files, {}.{} GiB in {}:{:02}",
                r.hex(8),
                r.range(100, 90000),
                r.range(1, 400),
                r.below(100),
                r.range(0, 59),
                r.below(60)
            )
        }),
        ("restic", "Error", |r| {
            format!(
                "Fatal: unable to open repository at {}: {}",
                r.pick(&["sftp:backup@nas:/srv/restic", "s3:s3.amazonaws.com/corp-backups", "/mnt/backup/restic"]),
                r.pick(&["connection timed out", "wrong password or no key found", "repository is locked"])
            )
        }),
        ("backup", "System Notification", |r| {
            let s = sys(r, "backup");
            format!(
                "{s}job {} done in {} s: {} MB written to {}",
                r.pick(&["daily", "db-dump", "etc"]),
                r.range(5, 4000),
                r.range(1, 90000),
                r.pick(&["nas", "s3", "tape"])
            )
        }),
        ("backup", "Error", |r| {
            let s = sys(r, "backup");
            format!(
                "{s}job {} FAILED after {} s: {}",
                r.pick(&["daily", "db-dump", "etc"]),
                r.range(1, 900),
                r.pick(&["pg_dump exited 1", "target unreachable", "checksum mismatch"])
            )
        }),
    ]
}
