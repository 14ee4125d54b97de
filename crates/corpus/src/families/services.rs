//! The family templates of JVM and Python services, with stack traces.

use super::*;

/// app-jvm.
pub(super) fn app_jvm() -> Vec<Template> {
    vec![
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
    ]
}

/// app-python.
pub(super) fn app_python() -> Vec<Template> {
    vec![
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
    ]
}
