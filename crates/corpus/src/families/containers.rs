//! The family templates of container runtimes and orchestrators.

use super::*;

/// kubelet.
pub(super) fn kubelet() -> Vec<Template> {
    vec![
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
    ]
}

/// kube-scheduler.
pub(super) fn kube_scheduler() -> Vec<Template> {
    vec![("kube-scheduler", "Resource Usage", |r| {
        format!("I{:02}{:02} {} 1 schedule_one.go:{}] \"Unable to schedule pod; no fit; waiting\" pod=\"default/web-{}\" err=\"0/{} nodes are available: {} Insufficient cpu, {} Insufficient memory.\"", r.range(1, 12), r.range(1, 28), hms(r), r.range(800, 1000), r.hex(5), r.range(3, 9), r.range(1, 3), r.range(1, 3))
    })]
}

/// containerd.
pub(super) fn containerd() -> Vec<Template> {
    vec![("containerd", "System Notification", |r| {
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
    })]
}

/// dockerd.
pub(super) fn dockerd() -> Vec<Template> {
    vec![("dockerd", "Error", |r| {
        let t = isot(r);
        format!(
            "time=\"{t}\" level=error msg=\"Handler for POST /v1.43/containers/{}/start returned error: {}\"",
            r.hex(12),
            r.pick(&[
                "driver failed programming external connectivity: port is already allocated",
                "OCI runtime create failed: exec: \\\"/app/run\\\": permission denied"
            ])
        )
    })]
}

/// kube-apiserver.
pub(super) fn kube_apiserver() -> Vec<Template> {
    vec![("kube-apiserver", "Deprecation Warning", |r| {
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
    })]
}

/// kubelet.
pub(super) fn kubelet_2() -> Vec<Template> {
    vec![("kubelet", "Critical Error", |r| {
        let s = sys(r, "kubelet");
        format!("{s}E{:02}{:02} {} {} kubelet.go:{}] \"Node became not ready\" node=\"{}\" condition={{Type:Ready Status:False Reason:KubeletNotReady Message:container runtime is down}}", r.range(1, 12), r.range(1, 28), hms(r), r.range(100, 9000), r.range(2000, 2900), r.pick(&HOSTS))
    })]
}
