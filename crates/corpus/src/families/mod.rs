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

use super::{Rng, COMBINED_LOG};

mod auth;
mod cloud;
mod containers;
mod data;
mod host;
mod services;
mod system;
mod web;

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

/// The programs whose formats a family imitates, by the family's source (a
/// template written in a format more programs share names them itself), in
/// the names the real-log benchmark gives them (`apache` writes apache2's
/// formats). The JVM and Python services' families are written in the
/// formats of the runtimes' logging and stack traces, which the benchmark's
/// own JVM and Python services (`billing`, `shopd`) write too: counted as
/// theirs, so holding those out holds these out.
pub fn imitates(source: &str) -> &'static [&'static str] {
    match source {
        "passwd" | "useradd" | "usermod" => &["shadow"],
        "apache" => &["apache2"],
        "postgres" => &["postgresql"],
        "app-jvm" => &["billing"],
        "app-python" => &["shopd"],
        "sshd" => &["sshd"],
        "sudo" => &["sudo"],
        "su" => &["su"],
        "cron" => &["cron"],
        "nginx" => &["nginx"],
        "haproxy" => &["haproxy"],
        "redis" => &["redis"],
        "postfix" => &["postfix"],
        "systemd" => &["systemd"],
        "kernel" => &["kernel"],
        "mysqld" => &["mariadb"],
        "mongod" => &["mongod"],
        "dovecot" => &["dovecot"],
        "fail2ban" => &["fail2ban"],
        "zookeeper" => &["zookeeper"],
        "kafka" => &["kafka"],
        "spark" => &["spark"],
        "yarn" => &["yarn"],
        "hdfs-datanode" | "hdfs-namenode" => &["hdfs"],
        "nova-compute" => &["nova"],
        "keystone" => &["keystone"],
        "kubelet" | "kube-scheduler" | "kube-apiserver" => &["kubernetes"],
        "containerd" => &["containerd"],
        "dockerd" => &["dockerd"],
        "monit" => &["monit"],
        "zabbix" => &["zabbix"],
        "nagios" => &["nagios"],
        "systemd-journald" => &["systemd"],
        "node-agent" => &["node-agent"],
        "df-check" | "cert-check" | "backup" => &["scripts"],
        "certbot" => &["certbot"],
        "restic" => &["restic"],
        _ => &[],
    }
}

/// Every template, in a fixed order (the generator picks among them): the
/// programs' templates in the order of the families, each program's in a
/// function of its own under `families/`.
pub fn templates() -> Vec<Template> {
    [
        auth::sshd(),
        auth::sudo(),
        auth::su(),
        auth::passwd(),
        auth::useradd(),
        auth::usermod(),
        system::cron(),
        system::systemd(),
        system::kernel(),
        web::nginx(),
        web::apache(),
        web::haproxy(),
        data::postgres(),
        data::mysqld(),
        data::redis(),
        data::mongod(),
        containers::kubelet(),
        containers::kube_scheduler(),
        containers::containerd(),
        containers::dockerd(),
        containers::kube_apiserver(),
        containers::kubelet_2(),
        services::app_jvm(),
        services::app_python(),
        cloud::hdfs_datanode(),
        cloud::hdfs_namenode(),
        cloud::yarn(),
        cloud::spark(),
        cloud::zookeeper(),
        cloud::kafka(),
        cloud::nova_compute(),
        cloud::keystone(),
        cloud::postfix(),
        cloud::dovecot(),
        cloud::fail2ban(),
        host::pressure(),
        host::upkeep(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_names_the_programs_it_imitates() {
        for (source, _, _) in templates() {
            assert!(!imitates(source).is_empty(), "the family {source} names no program it imitates");
        }
    }
}
