//! The family templates of big-data and cloud services.

use super::*;

/// hdfs-datanode.
pub(super) fn hdfs_datanode() -> Vec<Template> {
    vec![
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
    ]
}

/// hdfs-namenode.
pub(super) fn hdfs_namenode() -> Vec<Template> {
    vec![("hdfs-namenode", "Resource Usage", |r| {
        format!(
            "{} INFO org.apache.hadoop.hdfs.server.namenode.FSNamesystem: Capacity {} GB, used {} GB ({}%), remaining {} GB",
            iso(r),
            r.range(1000, 90000),
            r.range(100, 9000),
            r.range(10, 99),
            r.range(10, 9000)
        )
    })]
}

/// yarn.
pub(super) fn yarn() -> Vec<Template> {
    vec![
        ("yarn", "Error", |r| {
            format!("{} WARN org.apache.hadoop.yarn.server.nodemanager.containermanager.launcher.ContainerLaunch: Container container_{}_{:04}_01_{:06} exited with a non-zero exit code {}", iso(r), r.range(1_600_000_000_000, 1_700_000_000_000), r.range(1, 999), r.range(1, 999), r.pick(&["1", "137", "143"]))
        }),
        ("yarn", "Resource Usage", |r| {
            format!("{} WARN org.apache.hadoop.yarn.server.nodemanager.containermanager.monitor.ContainersMonitorImpl: Container [pid={},containerID=container_{}_{:04}_01_{:06}] is running beyond physical memory limits. Current usage: {} GB of {} GB physical memory used", iso(r), r.range(100, 60000), r.range(1_600_000_000_000, 1_700_000_000_000), r.range(1, 999), r.range(1, 999), r.range(2, 9), r.range(1, 2))
        }),
    ]
}

/// spark.
pub(super) fn spark() -> Vec<Template> {
    vec![
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
    ]
}

/// zookeeper.
pub(super) fn zookeeper() -> Vec<Template> {
    vec![
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
    ]
}

/// kafka.
pub(super) fn kafka() -> Vec<Template> {
    vec![("kafka", "Critical Error", |r| {
        format!("[{},{:03}] ERROR [ReplicaManager broker={}] Error processing append operation on partition {}-{} (kafka.server.ReplicaManager)\norg.apache.kafka.common.errors.KafkaStorageException: Disk error when trying to access log file on the disk.", iso(r), r.below(1000), r.range(0, 5), r.pick(&["orders", "payments", "clicks"]), r.range(0, 12))
    })]
}

/// nova-compute.
pub(super) fn nova_compute() -> Vec<Template> {
    vec![("nova-compute", "Resource Usage", |r| {
        format!("{}.{:03} {} INFO nova.compute.resource_tracker [req-{}] Final resource view: name={} phys_ram={}MB used_ram={}MB phys_disk={}GB used_disk={}GB total_vcpus={} used_vcpus={}", iso(r), r.below(1000), r.range(1000, 9000), r.uuid(), r.pick(&HOSTS), r.range(16000, 512000), r.range(512, 16000), r.range(100, 2000), r.range(1, 100), r.range(8, 96), r.range(0, 8))
    })]
}

/// keystone.
pub(super) fn keystone() -> Vec<Template> {
    vec![("keystone", "Security Alert", |r| {
        format!("{}.{:03} {} WARNING keystone.common.wsgi [req-{}] Authorization failed. The request you have made requires authentication. from {}", iso(r), r.below(1000), r.range(1000, 9000), r.uuid(), r.ip())
    })]
}

/// postfix.
pub(super) fn postfix() -> Vec<Template> {
    vec![
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
    ]
}

/// dovecot.
pub(super) fn dovecot() -> Vec<Template> {
    vec![
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
    ]
}

/// fail2ban.
pub(super) fn fail2ban() -> Vec<Template> {
    vec![("fail2ban", "Security Alert", |r| {
        format!("{},{:03} fail2ban.actions        [{}]: NOTICE  [sshd] Ban {}", iso(r), r.below(1000), r.range(100, 9000), r.ip())
    })]
}
