//! The family templates of sshd, PAM, sudo and su.

use super::*;

/// sshd.
pub(super) fn sshd() -> Vec<Template> {
    vec![
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
    ]
}

/// sudo.
pub(super) fn sudo() -> Vec<Template> {
    vec![
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
    ]
}

/// su.
pub(super) fn su() -> Vec<Template> {
    vec![
        ("su", "User Action", |r| {
            let s = sys(r, "su");
            format!("{s}(to {}) {} on pts/{}", r.pick(&["root", "postgres", "deploy"]), user(r), r.below(9))
        }),
        ("su", "Security Alert", |r| {
            let s = sys(r, "su");
            format!("{s}FAILED SU (to root) {} on pts/{}", user(r), r.below(9))
        }),
    ]
}

/// passwd.
pub(super) fn passwd() -> Vec<Template> {
    vec![("passwd", "User Action", |r| {
        let s = sys(r, "passwd");
        format!("{s}pam_unix(passwd:chauthtok): password changed for {}", user(r))
    })]
}

/// useradd.
pub(super) fn useradd() -> Vec<Template> {
    vec![("useradd", "User Action", |r| {
        let s = sys(r, "useradd");
        format!(
            "{s}new user: name={}, UID={}, GID={}, home=/home/{}, shell=/bin/bash",
            user(r),
            r.range(1000, 1100),
            r.range(1000, 1100),
            user(r)
        )
    })]
}

/// usermod.
pub(super) fn usermod() -> Vec<Template> {
    vec![("usermod", "User Action", |r| {
        let s = sys(r, "usermod");
        format!("{s}add '{}' to group '{}'", user(r), r.pick(&["docker", "adm", "sudo", "www-data"]))
    })]
}
