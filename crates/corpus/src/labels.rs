//! The generators of the general corpus: one a label, each with many
//! phrasings, over the business sources ([`SOURCES`]).

use super::{Rng, COMBINED_LOG};

pub(super) const SOURCES: [&str; 5] = ["ModernCRM", "BillingSystem", "AnalyticsEngine", "ThirdPartyAPI", "ModernHR"];

pub(super) fn service(r: &mut Rng) -> &'static str {
    r.pick(&[
        "payment-service",
        "auth-service",
        "inventory-api",
        "report-worker",
        "billing-gateway",
        "search-indexer",
        "notification-svc",
        "user-profile",
        "order-api",
        "etl-runner",
    ])
}

pub(super) fn path(r: &mut Rng) -> String {
    match r.below(6) {
        0 => format!("/v2/{}/servers/{}", r.hex(32), r.pick(&["detail", "action", "os-volume_attachments", "metadata"])),
        1 => format!(
            "/api/v{}/{}/{}",
            r.range(1, 3),
            r.pick(&["orders", "invoices", "users", "reports", "customers", "payments"]),
            r.range(1, 99999)
        ),
        2 => format!(
            "/api/{}?page={}&limit={}",
            r.pick(&["search", "items", "events", "tickets"]),
            r.range(1, 40),
            r.pick(&["20", "50", "100"])
        ),
        3 => r.pick(&["/healthz", "/metrics", "/login", "/logout", "/static/app.js", "/favicon.ico", "/index.html"]).to_string(),
        4 => format!("/v3/{}/volumes/{}", r.hex(32), r.uuid()),
        _ => format!("/graphql/{}", r.pick(&["query", "mutation"])),
    }
}

pub(super) fn status(r: &mut Rng) -> u64 {
    *[200, 200, 200, 200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 404, 409, 422, 429, 500, 502, 503, 504]
        .get(r.below(22) as usize)
        .unwrap_or(&200)
}

pub(super) fn method(r: &mut Rng) -> &'static str {
    r.pick(&["GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
}

pub(super) fn http_status(r: &mut Rng) -> String {
    let (m, p, s) = (method(r), path(r), status(r));
    let ip = r.ip();
    match r.below(10) {
        0 | 1 => {
            let comp = r.pick(&[
                "nova.osapi_compute.wsgi.server",
                "nova.metadata.wsgi.server",
                "cinder.api.openstack.wsgi",
                "neutron.wsgi",
                "glance.api.middleware",
            ]);
            let sep = r.pick(&["status: ", "status=", "returned ", "code "]);
            format!(
                "{comp} [req-{} {} {} - - -] {ip} \"{m} {p} HTTP/1.1\" {sep}{s} len: {} time: {}",
                r.uuid(),
                r.hex(32),
                r.hex(32),
                r.range(150, 9000),
                r.float(0.001, 2.5, 7)
            )
        }
        2 => {
            r.imitates(COMBINED_LOG);
            format!(
                "{ip} - - [{:02}/{}/2025:{:02}:{:02}:{:02} +0000] \"{m} {p} HTTP/1.1\" {s} {} \"-\" \"{}\"",
                r.range(1, 28),
                r.pick(&["Jan", "Mar", "Jun", "Sep", "Nov"]),
                r.below(24),
                r.below(60),
                r.below(60),
                r.range(0, 50000),
                r.pick(&[
                    "Mozilla/5.0 (X11; Linux x86_64)",
                    "curl/8.5.0",
                    "python-requests/2.31.0",
                    "Go-http-client/1.1",
                    "kube-probe/1.29"
                ])
            )
        }
        3 => {
            r.imitates(COMBINED_LOG);
            format!("{ip} - {} \"{m} {p} HTTP/2.0\" {s} {} {}ms", r.user(), r.range(0, 90000), r.range(1, 3000))
        }
        4 => format!(
            "[{}] \"{m} {p} HTTP/1.1\" {s} - {} {} {} \"{ip}\" \"{}\" upstream={}",
            r.float(0.0, 1.0, 3),
            r.range(0, 4000),
            r.range(0, 30000),
            r.range(1, 900),
            r.uuid(),
            service(r)
        ),
        5 => format!("{} {m} {p} -> {s} in {}ms", service(r), r.range(1, 5000)),
        6 => format!("HTTP {s} {m} {p} client={ip} bytes={} duration={}s", r.range(0, 50000), r.float(0.0, 3.0, 3)),
        7 => format!("request completed: method={m} path={p} status={s} latency_ms={} request_id={}", r.range(1, 4000), r.uuid()),
        8 => format!(
            "{m} {p} HTTP/1.1 {} {s} len: {} time: {}",
            r.pick(&["status", "response", "result"]),
            r.range(100, 5000),
            r.float(0.01, 1.0, 7)
        ),
        _ => format!(
            "Response {s} {} sent for {m} {p} ({} bytes)",
            r.pick(&["OK", "Created", "Not Found", "Bad Gateway", "Forbidden", "Accepted", ""]),
            r.range(0, 40000)
        ),
    }
}

pub(super) fn resource_usage(r: &mut Rng) -> String {
    let inst = r.uuid();
    let req = format!("[req-{} {} {} - - -]", r.uuid(), r.hex(32), r.hex(32));
    match r.below(16) {
        0 => format!("nova.compute.claims {req} [instance: {inst}] Total memory: {} MB, used: {}.00 MB", r.pick(&["64172", "32768", "131072", "16384"]), r.range(256, 16384)),
        1 => format!("nova.compute.claims {req} [instance: {inst}] memory limit: {}.00 MB, free: {}.00 MB", r.range(30000, 98000), r.range(1000, 90000)),
        2 => format!("nova.compute.claims {req} [instance: {inst}] Total disk: {} GB, used: {}.00 GB", r.range(15, 2000), r.range(0, 500)),
        3 => format!("nova.compute.claims {req} [instance: {inst}] {} limit not specified, defaulting to unlimited", r.pick(&["disk", "vcpu", "memory"])),
        4 => format!("nova.compute.claims {req} [instance: {inst}] Attempting claim: memory {} MB, disk {} GB, vcpus {} CPU", r.pick(&["512", "2048", "4096", "8192"]), r.range(1, 80), r.range(1, 16)),
        5 => format!("nova.compute.resource_tracker {req} Final resource view: name={} phys_ram={}MB used_ram={}MB phys_disk={}GB used_disk={}GB total_vcpus={} used_vcpus={}", format_args!("compute-{}", r.range(1, 40)), r.range(16000, 256000), r.range(512, 64000), r.range(100, 4000), r.range(0, 900), r.range(8, 96), r.range(0, 64)),
        6 => format!("CPU usage on {} at {}% for the last {} minutes", service(r), r.range(60, 99), r.range(1, 30)),
        7 => format!("Memory usage {} reached {}% of {} GB", r.pick(&["of the JVM heap", "on node", "of the container", "of the worker pool"]), r.range(70, 98), r.pick(&["4", "8", "16", "32"])),
        8 => format!("Disk usage on {} is {}% ({} GB free)", r.pick(&["/var", "/data", "/", "/var/lib/postgresql", "/mnt/logs"]), r.range(70, 99), r.range(1, 50)),
        9 => format!("container {} {} usage: cpu={}m memory={}Mi limit={}Mi", service(r), r.pick(&["resource", "current"]), r.range(50, 4000), r.range(64, 8000), r.pick(&["512", "1024", "2048", "4096"])),
        10 => format!("Connection pool {} in use: {}/{} connections", r.pick(&["db-primary", "redis-cache", "http-client"]), r.range(40, 100), 100),
        11 => format!("GC pause of {}ms; heap after collection {}MB of {}MB", r.range(20, 3000), r.range(200, 7000), r.pick(&["2048", "4096", "8192"])),
        12 => format!("queue {} depth {} messages, consumer lag {} s", r.pick(&["orders", "emails", "events", "billing-jobs"]), r.range(1000, 900000), r.range(1, 3600)),
        13 => format!("node {} load average: {}, {}, {}", format_args!("worker-{}", r.range(1, 30)), r.float(0.5, 16.0, 2), r.float(0.5, 16.0, 2), r.float(0.5, 16.0, 2)),
        14 => {
            r.imitates(&["kernel"]);
            format!("kernel: nf_conntrack: table full, dropping packet ({} of {} entries)", r.range(60000, 262144), 262144)
        }
        _ => format!("Swap usage at {}% on host {}; {} MB paged out", r.range(20, 95), format_args!("db-{}", r.range(1, 9)), r.range(100, 9000)),
    }
}

pub(super) fn security_alert(r: &mut Rng) -> String {
    let (ip, user) = (r.ip(), r.user());
    match r.below(20) {
        0 => format!(
            "Blocked traffic from {ip} after {}",
            r.pick(&[
                "an intrusion signature matched",
                "repeated failed logins",
                "a port scan",
                "a brute-force pattern",
                "a reputation-list hit"
            ])
        ),
        1 => format!("{} failed sign-in attempts for {user} within {} minutes", r.range(5, 60), r.range(1, 15)),
        2 => {
            r.imitates(&["sshd"]);
            format!(
                "sshd[{}]: Failed password for {}{user} from {ip} port {} ssh2",
                r.range(1000, 65000),
                r.pick(&["", "invalid user "]),
                r.range(1024, 65535)
            )
        }
        3 => {
            r.imitates(&["sshd"]);
            format!(
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip} user={}",
                r.pick(&["root", "admin", "oracle", "test"])
            )
        }
        4 => format!(
            "Privilege escalation attempt by user {user}: {}",
            r.pick(&[
                "sudo to root denied",
                "setuid binary executed",
                "role changed without approval",
                "admin API called with a user token"
            ])
        ),
        5 => format!(
            "{user} tried to read {} without authorisation; request denied",
            r.pick(&["payroll records", "customer data", "the admin console", "/etc/shadow", "billing exports"])
        ),
        6 => format!(
            "Alert: {} for account {user}",
            r.pick(&[
                "administrator rights granted outside the change window",
                "sign-in from an unusual country",
                "MFA disabled by a non-owner",
                "a new admin token created outside office hours"
            ])
        ),
        7 => format!(
            "Possible SQL injection in parameter '{}' from {ip}: blocked by WAF rule {}",
            r.pick(&["id", "q", "sort", "email"]),
            r.range(900000, 999999)
        ),
        8 => format!("JWT signature verification failed for request from {ip} (kid={})", r.hex(8)),
        9 => {
            r.imitates(&["sudo"]);
            format!(
                "sudo: {user} : {} incorrect password attempts ; TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/bash",
                r.range(3, 9),
                r.below(9)
            )
        }
        10 => format!(
            "Firewall DENY {} from {ip}:{} to {}:{} ({})",
            r.pick(&["TCP", "UDP"]),
            r.range(1024, 65535),
            r.ip(),
            r.pick(&["22", "3389", "445", "23", "5432"]),
            r.pick(&["policy block-inbound", "geo-block", "threat-intel list"])
        ),
        11 => format!("Account {user} locked after {} failed authentication attempts", r.range(3, 20)),
        12 => format!(
            "Suspicious {} from {ip}: {} requests in {} s",
            r.pick(&["activity", "request burst", "credential stuffing"]),
            r.range(200, 20000),
            r.range(1, 60)
        ),
        13 => format!(
            "Malware signature {} detected in upload {} by {user}; file quarantined",
            r.pick(&["Trojan.GenericKD", "EICAR-Test-File", "Win32.Emotet", "JS.Miner"]),
            format_args!("upload_{}.zip", r.range(100, 9999))
        ),
        14 => format!(
            "TLS handshake with {ip} rejected: certificate {} ",
            r.pick(&["revoked", "expired", "self-signed", "issued for another host"])
        ),
        15 => format!("API key {}… used from unrecognised IP {ip} for user {user}", r.hex(8)),
        16 => format!(
            "Denied access for user {user} to resource {} (missing permission {})",
            path(r),
            r.pick(&["admin:write", "billing:read", "hr:export"])
        ),
        17 => format!(
            "Security scan found {} critical vulnerabilities in image {}:{}",
            r.range(1, 30),
            service(r),
            r.pick(&["latest", "1.4.2", "2025.06"])
        ),
        18 => format!("Potential data exfiltration: {} GB sent to {ip} by {user}", r.range(1, 200)),
        _ => format!("CSRF token mismatch on {} from {ip}; request rejected", path(r)),
    }
}

pub(super) fn critical_error(r: &mut Rng) -> String {
    match r.below(18) {
        0 => {
            r.imitates(&["kernel"]);
            format!(
                "kernel: Out of memory: Killed process {} ({}) total-vm:{}kB",
                r.range(100, 65000),
                r.pick(&["java", "postgres", "python3", "node"]),
                r.range(100000, 9000000)
            )
        }
        1 => {
            r.imitates(&["kernel"]);
            format!(
                "EXT4-fs error (device {}): ext4_lookup:{}: inode #{}: comm {}: deleted inode referenced",
                r.pick(&["sda1", "nvme0n1p2", "vdb"]),
                r.range(1000, 2000),
                r.range(1000, 999999),
                service(r)
            )
        }
        2 => {
            r.imitates(&["billing"]);
            format!(
                "java.lang.OutOfMemoryError: Java heap space in {} thread \"{}\"",
                service(r),
                r.pick(&["main", "pool-2-thread-1", "kafka-consumer-3"])
            )
        }
        3 => format!(
            "Database cluster {} is down: {} of {} nodes unreachable",
            r.pick(&["pg-main", "orders-db", "mysql-prod"]),
            r.range(2, 5),
            5
        ),
        4 => format!("RAID array {} degraded: disk {} failed", r.pick(&["md0", "md1"]), r.pick(&["/dev/sdb", "/dev/sdc", "/dev/nvme1n1"])),
        5 => format!(
            "Critical failure in {} {}: {}",
            r.pick(&["controller", "storage module", "scheduler"]),
            format_args!("ctl-{}", r.range(1, 99)),
            r.pick(&["hardware fault", "watchdog expired", "firmware crash"])
        ),
        6 => format!(
            "Data corruption detected in {} table {}; writes halted",
            r.pick(&["ledger", "customer", "payroll"]),
            format_args!("shard_{}", r.range(1, 64))
        ),
        7 => format!(
            "Kernel panic - not syncing: {}",
            r.pick(&["Fatal exception in interrupt", "VFS: Unable to mount root fs", "Attempted to kill init!"])
        ),
        8 => format!("{} service is completely unavailable: all {} replicas crashed", service(r), r.range(2, 12)),
        9 => format!("Primary storage volume {} is read-only after I/O errors; service {} halted", r.uuid(), service(r)),
        10 => format!(
            "SMTP relay cluster {}: outbound mail queue frozen for every tenant",
            r.pick(&["down", "unreachable", "rejecting all connections"])
        ),
        11 => {
            r.imitates(&["postgresql"]);
            format!("FATAL: could not write to file \"pg_wal/{}\": No space left on device", r.hex(24).to_uppercase())
        }
        12 => format!(
            "Segmentation fault (core dumped) in {} worker {}; supervisor gave up after {} restarts",
            service(r),
            r.range(1, 64),
            r.range(3, 10)
        ),
        13 => format!("Power supply {} failed on rack {}; {} hosts lost", r.range(1, 2), r.range(1, 40), r.range(2, 30)),
        14 => format!("Cluster quorum lost: only {} of {} etcd members healthy", r.range(0, 1), 3),
        15 => format!(
            "Replication broken between {} and {}: replica diverged, failover impossible",
            format_args!("db-{}", r.range(1, 9)),
            format_args!("db-{}", r.range(10, 19))
        ),
        16 => format!(
            "Boot failure on node {}: {}",
            format_args!("compute-{}", r.range(1, 90)),
            r.pick(&["no bootable device", "initramfs unpacking failed", "hardware watchdog reset loop"])
        ),
        _ => format!("CRITICAL: {} lost connection to every message broker; {} events dropped", service(r), r.range(100, 100000)),
    }
}

pub(super) fn error(r: &mut Rng) -> String {
    match r.below(20) {
        0 => format!(
            "Replication of partition {} to {} {}",
            r.range(1, 64),
            format_args!("replica-{}", r.range(1, 5)),
            r.pick(&["failed", "did not complete", "aborted with an error", "stopped: checksum mismatch"])
        ),
        1 => format!(
            "Failed to connect to {} at {}:{}: connection refused",
            r.pick(&["redis", "postgres", "the payment gateway", "elasticsearch"]),
            r.ip(),
            r.pick(&["6379", "5432", "443", "9200"])
        ),
        2 => format!("Timeout after {}ms calling {} ({})", r.range(1000, 60000), service(r), path(r)),
        3 => {
            r.imitates(&["billing"]);
            format!(
            "java.lang.NullPointerException: Cannot invoke \"{}.{}()\" because \"{}\" is null at com.acme.{}.{}Service.{}({}Service.java:{})",
            r.pick(&["String", "Order", "Invoice", "Customer"]),
            r.pick(&["getId", "length", "total"]),
            r.pick(&["order", "customer", "value"]),
            r.pick(&["billing", "crm", "hr", "analytics"]),
            r.pick(&["Invoice", "Customer", "Report"]),
            r.pick(&["total", "load", "render"]),
            r.pick(&["Invoice", "Customer", "Report"]),
            r.range(20, 900)
        )
        }
        4 => {
            r.imitates(&["shopd"]);
            format!(
                "Traceback (most recent call last): File \"/app/{}.py\", line {}, in {} KeyError: '{}'",
                r.pick(&["worker", "views", "tasks"]),
                r.range(10, 800),
                r.pick(&["handle", "run", "process_row"]),
                r.pick(&["customer_id", "amount", "email"])
            )
        }
        5 => format!(
            "Could not deliver message {} to {}: mailbox {}",
            r.range(1000, 999999),
            format_args!("user{}@example.com", r.range(1, 999)),
            r.pick(&["full", "unavailable", "rejected by remote server"])
        ),
        6 => format!(
            "Report generation {} for report {}: {}",
            r.pick(&["failed", "errored"]),
            r.range(100, 9999),
            r.pick(&["template missing", "query timed out", "invalid date range"])
        ),
        7 => format!(
            "Could not parse configuration file {}: unexpected token at line {}",
            r.pick(&["/etc/app/config.yaml", "settings.toml", "/opt/etl/job.json"]),
            r.range(1, 300)
        ),
        8 => format!(
            "Job {} exited with status {}",
            format_args!("{}-{}", r.pick(&["nightly-etl", "sync-contacts", "rebuild-index"]), r.range(1, 9999)),
            r.range(1, 127)
        ),
        9 => format!(
            "Upload of {} failed: {}",
            format_args!("data_{}.csv", r.range(1000, 9999)),
            r.pick(&["checksum mismatch", "storage returned 500", "file too large"])
        ),
        10 => format!(
            "Payment {} declined by processor: {}",
            r.range(100000, 999999),
            r.pick(&["card expired", "insufficient funds", "do not honor"])
        ),
        11 => format!(
            "ERROR {}: unhandled exception in request {}: {}",
            service(r),
            r.uuid(),
            r.pick(&["ValueError", "IndexOutOfBoundsException", "TypeError", "IllegalStateException"])
        ),
        12 => format!(
            "Cache {} miss storm: backend query failed for key {}",
            r.pick(&["redis", "memcached"]),
            format_args!("user:{}", r.range(1, 99999))
        ),
        13 => format!(
            "Data transfer to {} {} after {} retries",
            r.pick(&["the warehouse", "S3 bucket exports", "partner SFTP"]),
            r.pick(&["failed", "was interrupted", "could not finish"]),
            r.range(1, 5)
        ),
        14 => format!(
            "Webhook delivery to {} failed with {}",
            r.pick(&["https://hooks.example.com/crm", "https://partner.example.org/notify"]),
            r.pick(&["HTTP 500", "a timeout", "TLS error"])
        ),
        15 => format!(
            "Failed to send notification {} via {}: {}",
            r.range(1000, 99999),
            r.pick(&["SMS", "push", "email"]),
            r.pick(&["provider error", "invalid recipient", "rate limited"])
        ),
        16 => format!(
            "Deadlock detected while updating {}; transaction {} rolled back",
            r.pick(&["orders", "invoices", "employees"]),
            r.range(10000, 999999)
        ),
        17 => format!(
            "Index rebuild for {} failed: {}",
            r.pick(&["customers", "products", "tickets"]),
            r.pick(&["mapping conflict", "node not available", "disk watermark exceeded"])
        ),
        18 => format!(
            "DNS lookup for {} failed: {}",
            r.pick(&["api.partner.example", "db.internal", "smtp.example.net"]),
            r.pick(&["NXDOMAIN", "SERVFAIL", "timeout"])
        ),
        _ => format!(
            "Scheduled task {} raised an error: {}",
            r.pick(&["cleanup-sessions", "send-digest", "recalc-metrics"]),
            r.pick(&["permission denied", "file not found", "division by zero"])
        ),
    }
}

pub(super) fn system_notification(r: &mut Rng) -> String {
    match r.below(16) {
        0 => format!(
            "Nightly backup of {} finished in {} s.",
            r.pick(&["orders-db", "crm-db", "hr-files", "the data warehouse"]),
            r.range(30, 7200)
        ),
        1 => format!("Backup job {} completed without errors ({} GB).", format_args!("bk-{}", r.range(100, 9999)), r.range(1, 900)),
        2 => format!("Package update applied: {} is now at version {}.{}.{}.", service(r), r.range(1, 9), r.below(20), r.below(20)),
        3 => format!("Report report_{}.pdf stored for {} ({} KB).", r.range(1000, 9999), r.user(), r.range(10, 9000)),
        4 => format!("Temporary file cleanup freed {} MB on {}.", r.range(10, 90000), r.pick(&["/tmp", "/var/tmp", "the scratch volume"])),
        5 => format!("Host {} restarting at the request of {}.", format_args!("app-{}", r.range(1, 40)), r.user()),
        6 => format!(
            "Scheduled maintenance window {} for {}.",
            r.pick(&["opened", "closed"]),
            r.pick(&["the database", "all services", "node pool A"])
        ),
        7 => format!("Service {} started (pid {}).", service(r), r.range(100, 65000)),
        8 => format!("Service {} stopped gracefully.", service(r)),
        9 => format!("Configuration reloaded for {}.", service(r)),
        10 => format!("Log rotation finished: {} files archived.", r.range(1, 200)),
        11 => format!(
            "TLS certificate for {} renewed, valid until {}.",
            r.pick(&["api.example.com", "crm.example.com", "hr.example.com"]),
            format_args!("2026-{:02}-{:02}", r.range(1, 12), r.range(1, 28))
        ),
        12 => format!("Cron job {} finished in {} s.", r.pick(&["nightly-report", "purge-temp", "refresh-cache"]), r.range(1, 900)),
        13 => format!("Health check passed for {} instances.", r.range(2, 50)),
        14 => format!("Database snapshot {} created.", format_args!("snap-{}", r.hex(8))),
        _ => format!("Node {} joined the cluster.", format_args!("worker-{}", r.range(1, 60))),
    }
}

pub(super) fn user_action(r: &mut Rng) -> String {
    let u = r.user();
    match r.below(12) {
        0 => format!("User {u} signed in from {} via {}.", r.ip(), r.pick(&["SSO", "password", "API token"])),
        1 => format!("Session ended for user {u} after {} minutes.", r.range(1, 600)),
        2 => format!("New customer account {} opened by {u}.", r.range(10000, 99999)),
        3 => format!("User {u} changed their password."),
        4 => format!("User {u} updated profile field '{}'.", r.pick(&["email", "phone", "address", "display name"])),
        5 => format!("User {u} downloaded report {}.", r.range(100, 9999)),
        6 => format!("Role '{}' assigned to user {u} by {}.", r.pick(&["editor", "viewer", "billing-admin"]), r.user()),
        7 => format!("User {u} deleted {} {}.", r.pick(&["draft", "dashboard", "filter"]), r.range(1, 999)),
        8 => format!("User {u} exported {} records to CSV.", r.range(10, 50000)),
        9 => format!("User {u} enabled two-factor authentication."),
        10 => format!("User {u} invited {} to workspace {}.", format_args!("guest{}@example.com", r.range(1, 999)), r.range(1, 99)),
        _ => format!("User {u} submitted form {}.", r.pick(&["expense-claim", "leave-request", "support-ticket"])),
    }
}

pub(super) fn workflow_error(r: &mut Rng) -> String {
    match r.below(12) {
        0 => format!(
            "Escalation of case {} stalled: the owning queue '{}' has no active members.",
            r.range(1000, 9999),
            r.pick(&["Tier2-Support", "Key Accounts", "Billing Disputes"])
        ),
        1 => format!(
            "Billing run for customer {} stopped: {}.",
            r.range(1000, 9999),
            r.pick(&["tax rules for the region are missing", "no billing address on file", "the price list currency does not match"])
        ),
        2 => format!(
            "Lead routing could not assign lead {}: no sales rep covers territory {}.",
            r.range(1000, 99999),
            r.pick(&["EMEA-North", "APAC-2", "US-West", "LATAM"])
        ),
        3 => format!(
            "Customer onboarding workflow for account {} stopped at step '{}': {}.",
            r.range(1000, 99999),
            r.pick(&["KYC check", "contract signature", "welcome email"]),
            r.pick(&["required document missing", "approver unavailable", "step timed out"])
        ),
        4 => format!("Approval chain for purchase order {} is stuck: approver {} has left the company.", r.range(10000, 99999), r.user()),
        5 => format!("Contract renewal job skipped account {} because the renewal template is missing.", r.range(1000, 99999)),
        6 => format!(
            "Order fulfilment for order {} halted: warehouse {} rejected the pick list.",
            r.range(10000, 99999),
            r.pick(&["W1", "W7", "DC-Berlin"])
        ),
        7 => format!(
            "Data sync between CRM and ERP failed for record {}: field mapping for '{}' is undefined.",
            r.range(1000, 99999),
            r.pick(&["region", "discount_code", "customer_tier"])
        ),
        8 => format!("Refund workflow for case {} could not continue: payment reference not found.", r.range(1000, 9999)),
        9 => format!("SLA timer for ticket {} could not start because the priority field is empty.", r.range(1000, 9999)),
        10 => format!("Quote {} was not sent: pricing rule {} returned no price.", r.range(1000, 9999), r.range(1, 300)),
        _ => format!("Merge of duplicate contacts {} and {} failed: conflicting owners.", r.range(1000, 9999), r.range(1000, 9999)),
    }
}

pub(super) fn deprecation_warning(r: &mut Rng) -> String {
    let (old, new) = match r.below(5) {
        0 => ("BulkMailer", "CampaignManager"),
        1 => ("LegacyReports", "InsightsStudio"),
        2 => ("SoapConnector", "RestConnector"),
        3 => ("QuickQuote", "QuoteBuilder"),
        _ => ("ContactImporterV1", "DataImportHub"),
    };
    match r.below(10) {
        0 => format!("'{old}' is deprecated and will be removed in release {}; switch to '{new}'.", r.range(3, 9)),
        1 => format!("Notice: {old} reaches end of life on {}; its replacement is {new}.", format_args!("2026-{:02}-01", r.range(1, 12))),
        2 => format!(
            "API endpoint /api/v1/{} is deprecated and will be removed on {}; use /api/v2/{}.",
            r.pick(&["contacts", "deals", "invoices"]),
            format_args!("2026-{:02}-01", r.range(1, 12)),
            r.pick(&["contacts", "deals", "invoices"])
        ),
        3 => {
            r.imitates(&["shopd"]);
            format!(
                "DeprecationWarning: {}() is deprecated since {}.{} and will be removed in {}.0; use {}() instead",
                r.pick(&["load_config", "send_mail", "get_user"]),
                r.range(1, 4),
                r.below(10),
                r.range(5, 7),
                r.pick(&["read_config", "deliver", "fetch_user"])
            )
        }
        4 => {
            r.imitates(&["shopd"]);
            format!(
                "[DEPRECATED] configuration option '{}' has been renamed to '{}'",
                r.pick(&["smtp_host", "db_pool", "retry_max"]),
                r.pick(&["mail.host", "database.pool_size", "retries.max"])
            )
        }
        5 => format!(
            "Support for {} ends on {}; upgrade to {}.",
            r.pick(&["TLS 1.0", "Python 3.8", "Java 11", "PostgreSQL 12"]),
            format_args!("2026-{:02}-30", r.range(1, 12)),
            r.pick(&["TLS 1.3", "Python 3.12", "Java 21", "PostgreSQL 16"])
        ),
        6 => format!(
            "apiVersion {} is deprecated in v1.{}+, unavailable in v1.{}+; use {}",
            r.pick(&["extensions/v1beta1 Ingress", "policy/v1beta1 PodSecurityPolicy", "batch/v1beta1 CronJob"]),
            r.range(20, 25),
            r.range(25, 30),
            r.pick(&["networking.k8s.io/v1 Ingress", "batch/v1 CronJob"])
        ),
        7 => format!("Warning: the '{old}' integration is deprecated and will stop working after the next release."),
        8 => format!(
            "Legacy authentication method '{}' is scheduled for removal; switch to OAuth 2.0.",
            r.pick(&["basic", "api-token-v1", "ntlm"])
        ),
        _ => format!(
            "Method {}.{}() is obsolete and will be removed in a future version of {new}.",
            old,
            r.pick(&["Send", "Export", "Sync"])
        ),
    }
}
