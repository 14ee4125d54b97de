#!/usr/bin/env bash
# The second capture: seventeen more of Debian's daemons and tools, driven
# through scripted scenarios the same way as capture.sh.
#
#   sudo bench/reallogs/capture-services.sh [WORKDIR]     (Debian 12, as root)
#
# Installs the programs (apt), starts each by hand on loopback ports with its
# own configuration under WORKDIR (default /tmp/logsift-services), drives the
# scenarios below, stops them and leaves each program's raw log in
# WORKDIR/raw/. `python3 bench/reallogs/build.py RAW1 RAW2` then labels both
# captures by templates.tsv.
#
# Programs: mariadb, named (bind9), dovecot, squid, lighttpd, php-fpm,
# mosquitto, openvpn, fail2ban, slapd, celery (a worker of our own tasks on
# the real framework), ansible, rabbitmq, rsync (the daemon), supervisord,
# gunicorn (serving a small WSGI app of our own) and chronyd.
#
# It changes the machine it runs on (packages, users alice/bob, files under
# /etc/ldap and /var/lib): run it in a throwaway container or VM.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
W="${1:-/tmp/logsift-services}"
RAW="$W/raw"
ROUNDS="${ROUNDS:-30}"
pkill -x mariadbd; pkill -x named; pkill -x dovecot; pkill -x squid; pkill -x lighttpd; pkill -f php-fpm; pkill -x mosquitto
pkill -x openvpn; pkill -f fail2ban-server; pkill -x slapd; pkill -f 'celery.*worker'; pkill -f beam.smp; pkill -f 'rsync --daemon'
pkill -f supervisord; pkill -f gunicorn; pkill -x chronyd; pkill -f 'redis-server 127.0.0.1:6390'; sleep 2
rm -rf "$W"; mkdir -p "$RAW"; chmod 755 "$W" "$RAW"
log() { echo "== $*" >&2; }
PY=/usr/bin/python3
http() { curl -s -o /dev/null -m 5 "$@"; }

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  log "installing programs"
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  for k in "slapd/password1 password" "slapd/password2 password"; do echo "slapd $k Ldap-Admin-5" | debconf-set-selections; done
  echo "slapd slapd/domain string lab.example" | debconf-set-selections
  echo "slapd shared/organization string lab" | debconf-set-selections
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server mariadb-client bind9 bind9-dnsutils dovecot-imapd \
    squid mosquitto mosquitto-clients openvpn fail2ban slapd ldap-utils php8.2-fpm lighttpd celery python3-celery python3-redis \
    rsyslog redis-server redis-tools rsync supervisor gunicorn ansible-core rabbitmq-server chrony curl openssl python3
fi

# ---------------------------------------------------------------- collector
log "rsyslogd"
cat > "$W/rsyslog.conf" <<CONF
module(load="imuxsock" SysSock.Name="/dev/log")
\$template Plain,"%timestamp% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n"
if \$programname == ["su", "useradd", "userdel", "usermod", "chpasswd"] then stop
*.* action(type="omfile" file="$RAW/syslog.log" template="Plain")
CONF
pkill -x rsyslogd; rm -f /run/rsyslogd.pid
rsyslogd -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid"
sleep 1

# ---------------------------------------------------------------- users
for u in alice bob; do userdel -r "$u" >/dev/null 2>&1; done
useradd -m -s /bin/bash alice; echo 'alice:Wonderland-1' | chpasswd
useradd -m -s /bin/bash bob; echo 'bob:Builder-22' | chpasswd

# ---------------------------------------------------------------- mariadb
log "mariadb"
mkdir -p "$W/mysql/data" "$W/mysql/run"; chown -R mysql: "$W/mysql"
touch "$RAW/mariadb.log"; chown mysql: "$RAW/mariadb.log"
mariadb-install-db --user=mysql --datadir="$W/mysql/data" >/dev/null 2>&1
MYOPTS=(--user=mysql --datadir="$W/mysql/data" --socket="$W/mysql/run/sock" --pid-file="$W/mysql/run/pid" --port=3307
  --bind-address=127.0.0.1 --log-error="$RAW/mariadb.log" --log-warnings=4 --max-connections=10 --innodb-buffer-pool-size=16M
  --max-allowed-packet=64K --lc-messages-dir=/usr/share/mysql --skip-name-resolve)
my_start() { (mariadbd "${MYOPTS[@]}" "$@" >/dev/null 2>&1 &); sleep 4; }
my_start
MY=(mariadb -h 127.0.0.1 -P 3307 -u root --connect-timeout=5)
mariadb -S "$W/mysql/run/sock" -u root -e "CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY 'Maria-Root-1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; DROP USER IF EXISTS ''@'localhost', ''@'$(hostname)';"
MY=(mariadb -h 127.0.0.1 -P 3307 -u root -pMaria-Root-1 --connect-timeout=5)
"${MY[@]}" -e "CREATE DATABASE shop; CREATE TABLE shop.orders(id INT PRIMARY KEY, customer VARCHAR(20), total DECIMAL(9,2)); CREATE USER 'report'@'127.0.0.1' IDENTIFIED BY 'Report-Pw-3'; GRANT SELECT ON shop.* TO 'report'@'127.0.0.1';"

# ---------------------------------------------------------------- named
log "named"
mkdir -p "$W/bind"; chown bind: "$W/bind"
cat > "$W/bind/named.conf" <<CONF
options {
  directory "$W/bind";
  listen-on port 5353 { 127.0.0.1; };
  listen-on-v6 { none; };
  pid-file "$W/bind/named.pid";
  recursion no;
  allow-transfer { none; };
  dnssec-validation no;
};
controls { inet 127.0.0.1 port 9953 allow { 127.0.0.1; } keys { "rndc-key"; }; };
key "rndc-key" { algorithm hmac-sha256; secret "c2VjcmV0LWxhYi1rZXktZm9yLXJuZGMtMDEyMzQ1Njc4OQ=="; };
zone "lab.example" { type master; file "$W/bind/lab.zone"; allow-update { none; }; };
zone "broken.example" { type master; file "$W/bind/broken.zone"; };
CONF
cat > "$W/bind/rndc.conf" <<CONF
key "rndc-key" { algorithm hmac-sha256; secret "c2VjcmV0LWxhYi1rZXktZm9yLXJuZGMtMDEyMzQ1Njc4OQ=="; };
options { default-key "rndc-key"; default-server 127.0.0.1; default-port 9953; };
CONF
zone() { printf '$TTL 300\n@ IN SOA ns.lab.example. admin.lab.example. (%s 3600 600 86400 300)\n@ IN NS ns.lab.example.\nns IN A 127.0.0.1\nwww IN A 127.0.0.2\nmail IN A 127.0.0.3\n' "$1" > "$W/bind/lab.zone"; }
zone 1
printf '$TTL 300\n@ IN SOA ns.broken.example. admin. (1 3600 600 86400 300)\nwww IN A 999.1.1.1\n' > "$W/bind/broken.zone"
chown -R bind: "$W/bind"
named -c "$W/bind/named.conf" -u bind
RNDC=(rndc -c "$W/bind/rndc.conf")
DIG=(dig -p 5353 @127.0.0.1 +time=2 +tries=1)

# ---------------------------------------------------------------- lighttpd and php-fpm
log "lighttpd and php-fpm"
mkdir -p "$W/web/private" "$W/php"
echo '<h1>lighttpd lab</h1>' > "$W/web/index.html"; echo secret > "$W/web/private/key.txt"; chmod 700 "$W/web/private"
cat > "$W/web/info.php" <<'PHP'
<?php echo "ok ", count($_GET), "\n";
PHP
cat > "$W/web/cart.php" <<'PHP'
<?php
$items = explode(",", $_GET["items"] ?? "");
$total = 0;
foreach ($items as $i) { $total += $prices[$i]; }
echo strlen(null), " items: ", $total, "\n";
PHP
cat > "$W/web/fatal.php" <<'PHP'
<?php
require "lib/helpers.php";
echo apply_discount(10);
PHP
cat > "$W/web/slow.php" <<'PHP'
<?php usleep(1600000); echo "done\n";
PHP
cat > "$W/web/memory.php" <<'PHP'
<?php $a = []; for ($i = 0; $i < 10000000; $i++) { $a[] = str_repeat("x", 64); } echo count($a);
PHP
chmod -R a+rX "$W/web"; chmod 700 "$W/web/private"
touch "$RAW/php-fpm.log" "$RAW/php-errors.log"; chmod 666 "$RAW/php-errors.log"
cat > "$W/php/fpm.conf" <<CONF
[global]
pid = $W/php/fpm.pid
error_log = $RAW/php-fpm.log
log_level = notice
[www]
user = www-data
group = www-data
listen = 127.0.0.1:9001
pm = static
pm.max_children = 2
request_slowlog_timeout = 1s
slowlog = $RAW/php-slow.log
request_terminate_timeout = 3s
php_admin_value[error_log] = $RAW/php-errors.log
php_admin_flag[log_errors] = on
php_admin_value[memory_limit] = 32M
php_admin_value[error_reporting] = E_ALL
CONF
php-fpm8.2 -y "$W/php/fpm.conf"
cat > "$W/lighttpd.conf" <<CONF
server.modules = ("mod_access", "mod_accesslog", "mod_redirect", "mod_fastcgi")
server.document-root = "$W/web"
server.bind = "127.0.0.1"
server.port = 8082
server.pid-file = "$W/lighttpd.pid"
server.errorlog = "$RAW/lighttpd-error.log"
server.username = "www-data"
server.groupname = "www-data"
server.max-connections = 8
accesslog.filename = "$RAW/lighttpd-access.log"
index-file.names = ("index.html")
url.redirect = ("^/old$" => "/index.html")
\$HTTP["url"] =~ "^/admin" { url.access-deny = ("") }
fastcgi.server = (".php" => (("host" => "127.0.0.1", "port" => 9001)))
mimetype.assign = (".html" => "text/html", ".txt" => "text/plain")
CONF
touch "$RAW/lighttpd-access.log" "$RAW/lighttpd-error.log"; chown www-data: "$RAW/lighttpd-access.log" "$RAW/lighttpd-error.log"
lighttpd -f "$W/lighttpd.conf"

# ---------------------------------------------------------------- squid
log "squid"
mkdir -p "$W/squid/cache"; chown -R proxy: "$W/squid"
touch "$RAW/squid-access.log" "$RAW/squid-cache.log"; chown proxy: "$RAW/squid-access.log" "$RAW/squid-cache.log"
cat > "$W/squid/squid.conf" <<CONF
http_port 127.0.0.1:3128
pid_filename $W/squid/squid.pid
access_log daemon:$RAW/squid-access.log squid
cache_log $RAW/squid-cache.log
cache_store_log none
coredump_dir $W/squid
cache_dir ufs $W/squid/cache 16 4 8
cache_mem 4 MB
acl SSL_ports port 443
acl Safe_ports port 80 8082 3129
acl CONNECT method CONNECT
acl blocked dstdomain .ads.example .tracker.example
acl lan src 127.0.0.1/32
http_access deny blocked
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow lan
http_access deny all
shutdown_lifetime 1 seconds
dns_nameservers 127.0.0.1
CONF
squid -f "$W/squid/squid.conf" -z >/dev/null 2>&1; sleep 2
squid -f "$W/squid/squid.conf"; sleep 2
PROXY=(-x http://127.0.0.1:3128)

# ---------------------------------------------------------------- dovecot and fail2ban
log "dovecot"
mkdir -p "$W/dovecot/run" "$W/mail"; chmod 777 "$W/mail"
printf 'alice:{PLAIN}Wonderland-1:%s:%s::%s/mail/alice\nbob:{PLAIN}Builder-22:%s:%s::%s/mail/bob\n' \
  "$(id -u alice)" "$(id -g alice)" "$W" "$(id -u bob)" "$(id -g bob)" "$W" > "$W/dovecot/users"
cat > "$W/dovecot/dovecot.conf" <<CONF
base_dir = $W/dovecot/run
protocols = imap
listen = 127.0.0.1
log_path = $RAW/dovecot.log
auth_verbose = yes
auth_mechanisms = plain login
disable_plaintext_auth = no
ssl = no
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $W/dovecot/users
}
userdb {
  driver = passwd-file
  args = $W/dovecot/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = 1143
  }
}
mail_max_userip_connections = 3
CONF
dovecot -c "$W/dovecot/dovecot.conf"; sleep 1

log "fail2ban"
mkdir -p "$W/fail2ban/run"; cp -r /etc/fail2ban "$W/fail2ban/etc"
cat > "$W/fail2ban/etc/fail2ban.local" <<CONF
[Definition]
logtarget = $RAW/fail2ban.log
socket = $W/fail2ban/run/fail2ban.sock
pidfile = $W/fail2ban/run/fail2ban.pid
dbfile = :memory:
CONF
rm -f "$W/fail2ban/etc/jail.d/"*
cat > "$W/fail2ban/etc/jail.local" <<CONF
[DEFAULT]
ignoreself = false
ignoreip =
banaction = dummy
backend = polling
bantime = 20
findtime = 60
maxretry = 3
[dovecot]
enabled = true
logpath = $RAW/dovecot.log
[mosquitto-lab]
enabled = false
CONF
F2B=(fail2ban-client -c "$W/fail2ban/etc")
"${F2B[@]}" start >/dev/null 2>&1; sleep 2

# ---------------------------------------------------------------- mosquitto
log "mosquitto"
mkdir -p "$W/mosquitto"
mosquitto_passwd -c -b "$W/mosquitto/passwd" alice Wonderland-1 2>/dev/null
mosquitto_passwd -b "$W/mosquitto/passwd" sensor Sensor-Pw-4 2>/dev/null
printf 'user alice\ntopic readwrite #\nuser sensor\ntopic write plant/#\n' > "$W/mosquitto/acl"
chown -R mosquitto: "$W/mosquitto"; touch "$RAW/mosquitto.log"; chown mosquitto: "$RAW/mosquitto.log"
cat > "$W/mosquitto/mosquitto.conf" <<CONF
listener 1884 127.0.0.1
allow_anonymous false
password_file $W/mosquitto/passwd
acl_file $W/mosquitto/acl
max_connections 6
log_dest file $RAW/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
log_timestamp_format %Y-%m-%dT%H:%M:%S
pid_file $W/mosquitto/pid
CONF
mosquitto -c "$W/mosquitto/mosquitto.conf" -d; sleep 1
PUB=(mosquitto_pub -h 127.0.0.1 -p 1884)

# ---------------------------------------------------------------- openvpn
log "openvpn"
mkdir -p "$W/ovpn"; cd "$W/ovpn" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=lab-ca -keyout ca.key -out ca.crt 2>/dev/null
for n in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$n" -keyout $n.key -out $n.csr 2>/dev/null
  openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -out $n.crt 2>/dev/null
done
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=stranger -keyout stranger.key -out stranger.crt 2>/dev/null
openvpn --genkey secret static.key 2>/dev/null
cd - >/dev/null || exit 1
OVPN_SERVER=(openvpn --dev null --proto udp --local 127.0.0.1 --lport 11940 --tls-server --ca "$W/ovpn/ca.crt" --cert "$W/ovpn/server.crt"
  --key "$W/ovpn/server.key" --dh none --ping 2 --verb 3 --float --comp-lzo --log-append "$RAW/openvpn.log" --daemon)
ovpn_client() { timeout "${2:-6}" openvpn --dev null --proto udp --remote 127.0.0.1 11940 --nobind --tls-client --ca "$W/ovpn/ca.crt" \
  --cert "$W/ovpn/$1.crt" --key "$W/ovpn/$1.key" --verb 1 --comp-lzo --connect-retry-max 1 --tls-timeout 2 --hand-window 4 >/dev/null 2>&1; }
"${OVPN_SERVER[@]}"; sleep 1

# ---------------------------------------------------------------- slapd
log "slapd"
touch "$RAW/slapd.log"
(slapd -h "ldap://127.0.0.1:3890/" -u openldap -g openldap -d stats 2>>"$RAW/slapd.log" &)
sleep 2
LDAP=(-x -H ldap://127.0.0.1:3890 -o nettimeout=5)
cat > "$W/people.ldif" <<LDIF
dn: ou=people,dc=lab,dc=example
objectClass: organizationalUnit
ou: people
LDIF

# ---------------------------------------------------------------- redis for celery, and rabbitmq
log "celery (on redis) and rabbitmq"
redis-server --port 6390 --bind 127.0.0.1 --save "" --daemonize yes --logfile /dev/null --pidfile "$W/redis.pid"; sleep 1
mkdir -p "$W/celery"; cp "$HERE/shoptasks.py" "$W/celery/"
touch "$RAW/celery.log"; chmod 666 "$RAW/celery.log"
(cd "$W/celery" && "$PY" -m celery -A shoptasks worker --loglevel=INFO --concurrency=2 --logfile "$RAW/celery.log" --pidfile "$W/celery/worker.pid" \
  --hostname worker1@vm --max-tasks-per-child 50 --detach)
mkdir -p "$W/rabbit/mnesia" "$W/rabbit/log"
RMQ=(env RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5673 RABBITMQ_DIST_PORT=25673
  RABBITMQ_LOG_BASE="$W/rabbit/log" RABBITMQ_MNESIA_BASE="$W/rabbit/mnesia" RABBITMQ_PID_FILE="$W/rabbit/pid"
  RABBITMQ_CONFIG_FILE="$W/rabbit/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$W/rabbit/plugins")
printf 'loopback_users = none\nlog.file.level = info\nvm_memory_high_watermark.relative = 0.4\n' > "$W/rabbit/rabbitmq.conf"
echo '[].' > "$W/rabbit/plugins"; chown -R rabbitmq: "$W/rabbit"
("${RMQ[@]}" rabbitmq-server >/dev/null 2>&1 &)
RABBIT_READY=0
for i in $(seq 1 40); do "${RMQ[@]}" rabbitmqctl -q status >/dev/null 2>&1 && { RABBIT_READY=1; break; }; sleep 2; done
[ "$RABBIT_READY" = 1 ] || log "rabbitmq did not start"
"${RMQ[@]}" rabbitmqctl -q add_user alice Wonderland-1 >/dev/null 2>&1; "${RMQ[@]}" rabbitmqctl -q set_permissions alice '.*' '.*' '.*' >/dev/null 2>&1
"${RMQ[@]}" rabbitmqctl -q add_user guestbook Guestbook-2 >/dev/null 2>&1
amqp() { timeout 10 "$PY" "$HERE/amqp_client.py" "$@" >/dev/null 2>&1; }

# ---------------------------------------------------------------- rsync daemon
log "rsync"
mkdir -p "$W/rsync/backup" "$W/rsync/public"; echo "archive" > "$W/rsync/public/readme.txt"
printf 'alice:Wonderland-1\n' > "$W/rsync/secrets"; chmod 600 "$W/rsync/secrets"
cat > "$W/rsync/rsyncd.conf" <<CONF
pid file = $W/rsync/pid
log file = $RAW/rsyncd.log
port = 8730
address = 127.0.0.1
use chroot = no
max connections = 4
[backup]
  path = $W/rsync/backup
  read only = no
  auth users = alice
  secrets file = $W/rsync/secrets
  uid = root
  gid = root
[public]
  path = $W/rsync/public
  read only = yes
  uid = root
  gid = root
CONF
rsync --daemon --config="$W/rsync/rsyncd.conf"; sleep 0.5
echo "data" > "$W/payload.txt"

# ---------------------------------------------------------------- supervisord
log "supervisord"
mkdir -p "$W/supervisor"
cat > "$W/supervisor/supervisord.conf" <<CONF
[supervisord]
logfile = $RAW/supervisord.log
pidfile = $W/supervisor/pid
childlogdir = $W/supervisor
[unix_http_server]
file = $W/supervisor/sock
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl = unix://$W/supervisor/sock
[program:exporter]
command = /bin/sleep 100000
[program:queue-runner]
command = /bin/sh -c 'sleep 7; exit 3'
startsecs = 2
[program:thumbnailer]
command = /bin/sh -c 'echo "config missing" >&2; exit 1'
startretries = 2
[program:mailer]
command = /usr/bin/does-not-exist --serve
startretries = 1
CONF
supervisord -c "$W/supervisor/supervisord.conf"; sleep 1
SCTL=(supervisorctl -c "$W/supervisor/supervisord.conf")

# ---------------------------------------------------------------- gunicorn
log "gunicorn"
mkdir -p "$W/gunicorn"; cp "$HERE/inventory_app.py" "$W/gunicorn/"
(cd "$W/gunicorn" && gunicorn --bind 127.0.0.1:8095 --workers 2 --timeout 3 --graceful-timeout 2 --daemon --pid "$W/gunicorn/pid" \
  --access-logfile "$RAW/gunicorn-access.log" --error-logfile "$RAW/gunicorn.log" --capture-output inventory_app:app)
sleep 2

# ---------------------------------------------------------------- chronyd
log "chronyd"
mkdir -p "$W/chrony"
cat > "$W/chrony/server.conf" <<CONF
port 11123
cmdport 0
local stratum 8
allow 127.0.0.1
pidfile $W/chrony/server.pid
driftfile $W/chrony/server.drift
CONF
cat > "$W/chrony/client.conf" <<CONF
server 127.0.0.1 port 11123 iburst minpoll 0 maxpoll 1
server ntp.lab.example iburst
port 0
cmdport 11124
bindcmdaddress 127.0.0.1
pidfile $W/chrony/client.pid
driftfile $W/chrony/client.drift
logchange 0.001
maxslewrate 1
CONF
echo "12.5 0.3" > "$W/chrony/client.drift"
chronyd -x -u root -f "$W/chrony/server.conf"
chronyd -x -u root -f "$W/chrony/client.conf"
CHRONYC=(chronyc -h 127.0.0.1 -p 11124)

# ---------------------------------------------------------------- ansible
log "ansible"
mkdir -p "$W/ansible"; cp "$HERE"/playbooks/*.yml "$W/ansible/"
printf '[defaults]\nlog_path = %s\ninventory = %s/hosts\nhost_key_checking = False\nretry_files_enabled = False\nnocows = 1\n' \
  "$RAW/ansible.log" "$W/ansible" > "$W/ansible/ansible.cfg"
printf '[web]\nlocalhost ansible_connection=local\n[db]\ndb1.lab.example ansible_host=127.0.0.1 ansible_port=2 ansible_user=deploy\n' > "$W/ansible/hosts"
play() { (cd "$W/ansible" && ANSIBLE_CONFIG="$W/ansible/ansible.cfg" ansible-playbook "$@" >/dev/null 2>&1); }

# ================================================================ scenarios
# Each round runs every program's scenario at once (each waits only for its own clients).
# mariadb: logins good and bad, a read-only role writing, errors, too many connections, a dropped client.
s_mariadb() {
  "${MY[@]}" -e "INSERT INTO shop.orders VALUES ($round, 'c$round', 10.5)" 2>/dev/null
  "${MY[@]}" -e "SELECT count(*) FROM shop.orders" >/dev/null
  mariadb -h 127.0.0.1 -P 3307 -u root -pguess -e "SELECT 1" 2>/dev/null
  mariadb -h 127.0.0.1 -P 3307 -u admin -padmin -e "SELECT 1" 2>/dev/null
  mariadb -h 127.0.0.1 -P 3307 -u report -pReport-Pw-3 -e "DELETE FROM shop.orders" 2>/dev/null
  mariadb -h 127.0.0.1 -P 3307 -u report -pReport-Pw-3 -e "SELECT * FROM mysql.user" 2>/dev/null
  for i in $(seq 1 13); do "${MY[@]}" -e "SELECT SLEEP(2)" >/dev/null 2>&1 & done; sleep 0.5; "${MY[@]}" -e "SELECT 1" >/dev/null 2>&1; wait
  timeout 1 "${MY[@]}" -e "SELECT SLEEP(5)" >/dev/null 2>&1
  "${MY[@]}" -e "SELECT REPEAT('x', 200000)" >/dev/null 2>&1
  timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/3307; head -c 20 <&3 >/dev/null; printf "GET / HTTP/1.0\r\n\r\n" >&3; sleep 1' 2>/dev/null
}
# named: answered and refused queries, transfers, updates, reloads, a broken zone.
s_named() {
  for n in www mail ns nothere; do "${DIG[@]}" "$n.lab.example" >/dev/null; done
  "${DIG[@]}" example.com >/dev/null; "${DIG[@]}" lab.example AXFR >/dev/null
  printf 'server 127.0.0.1 5353\nupdate add evil.lab.example 60 A 10.6.6.6\nsend\n' | nsupdate -t 3 >/dev/null 2>&1
  zone $((round + 1)); "${RNDC[@]}" reload >/dev/null 2>&1; "${RNDC[@]}" reload lab.example >/dev/null 2>&1
}
# lighttpd and php-fpm: 2xx/3xx/4xx/5xx, notices and deprecations, fatal errors, slow and busy workers.
s_lighttpd() {
  for p in / /index.html /old /missing.html /admin/ /private/key.txt /info.php "/cart.php?items=a,b" /fatal.php /nope.php /.git/config; do http "http://127.0.0.1:8082$p"; done
  for i in 1 2 3 4; do http "http://127.0.0.1:8082/slow.php" & done; wait
  http "http://127.0.0.1:8082/memory.php"
}
# squid: through the proxy to lighttpd, blocked domains and ports, a dead origin, cache hits.
s_squid() {
  for p in / /index.html /missing.html /info.php /old; do http "${PROXY[@]}" "http://127.0.0.1:8082$p"; done
  http "${PROXY[@]}" http://127.0.0.1:8082/index.html
  http "${PROXY[@]}" http://ads.example/banner.js; http "${PROXY[@]}" http://tracker.example/pixel
  http "${PROXY[@]}" http://127.0.0.1:25/; http "${PROXY[@]}" http://127.0.0.1:3129/
  http "${PROXY[@]}" http://unknown-host.lab.example/
}
# dovecot (and fail2ban watching it): logins, wrong passwords, unknown users, too many connections.
s_dovecot() {
  curl -s -m 5 -u alice:Wonderland-1 "imap://127.0.0.1:1143/" >/dev/null
  curl -s -m 5 -u bob:Builder-22 "imap://127.0.0.1:1143/INBOX" -X "EXAMINE INBOX" >/dev/null
  for pw in 123456 letmein qwerty; do curl -s -m 5 -u "alice:$pw" "imap://127.0.0.1:1143/" >/dev/null; done
  curl -s -m 5 -u "mallory:x" "imap://127.0.0.1:1143/" >/dev/null
  for i in 1 2 3 4 5; do timeout 2 curl -s -m 6 -u alice:Wonderland-1 "imap://127.0.0.1:1143/INBOX" -X "IDLE" >/dev/null & done; wait
}
# mosquitto: clients publishing, refused logins, an ACL denial, too many connections.
s_mosquitto() {
  "${PUB[@]}" -u alice -P Wonderland-1 -i "dashboard-$round" -t plant/line1/temp -m 21.5
  "${PUB[@]}" -u sensor -P Sensor-Pw-4 -i "sensor-$round" -t plant/line2/pressure -m 1.2 -q 1
  "${PUB[@]}" -u sensor -P Sensor-Pw-4 -i "sensor-x$round" -t admin/reset -m now
  "${PUB[@]}" -u alice -P wrong -i "intruder-$round" -t plant/x -m 1 2>/dev/null
  "${PUB[@]}" -i "anon-$round" -t plant/x -m 1 2>/dev/null
  for i in $(seq 1 8); do timeout 3 mosquitto_sub -h 127.0.0.1 -p 1884 -u alice -P Wonderland-1 -i "watch-$round-$i" -t 'plant/#' >/dev/null 2>&1 & done; wait
  timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/1884; printf "GET / HTTP/1.1\r\n\r\n" >&3; sleep 1' 2>/dev/null
}
# openvpn: a client with a good certificate, one the CA never signed, a client that goes away.
s_openvpn() {
  ovpn_client client 5; ovpn_client stranger 5
  timeout 3 bash -c 'exec 3<>/dev/udp/127.0.0.1/11940; printf "hello" >&3' 2>/dev/null
}
# slapd: binds good and bad, searches, adds, a modify without rights.
s_slapd() {
  ldapwhoami "${LDAP[@]}" -D cn=admin,dc=lab,dc=example -w Ldap-Admin-5 >/dev/null 2>&1
  ldapwhoami "${LDAP[@]}" -D cn=admin,dc=lab,dc=example -w "guess$round" >/dev/null 2>&1
  ldapsearch "${LDAP[@]}" -b dc=lab,dc=example "(uid=alice)" >/dev/null 2>&1
  ldapadd "${LDAP[@]}" -D cn=admin,dc=lab,dc=example -w Ldap-Admin-5 -f "$W/people.ldif" >/dev/null 2>&1
  printf 'dn: uid=u%s,ou=people,dc=lab,dc=example\nobjectClass: inetOrgPerson\nuid: u%s\ncn: User %s\nsn: Lab\n' "$round" "$round" "$round" \
    | ldapadd "${LDAP[@]}" -D cn=admin,dc=lab,dc=example -w Ldap-Admin-5 >/dev/null 2>&1
  printf 'dn: dc=lab,dc=example\nchangetype: modify\nreplace: description\ndescription: x\n' | ldapmodify "${LDAP[@]}" >/dev/null 2>&1
  ldapsearch "${LDAP[@]}" -b dc=nowhere "(objectClass=*)" >/dev/null 2>&1
  ldapdelete "${LDAP[@]}" -D cn=admin,dc=lab,dc=example -w Ldap-Admin-5 "uid=u$round,ou=people,dc=lab,dc=example" >/dev/null 2>&1
}
# celery: orders through reserve -> charge -> ship, some that cannot proceed.
s_celery() {
  (cd "$W/celery" && "$PY" -c "import shoptasks, sys; shoptasks.submit(int(sys.argv[1]))" "$round" >/dev/null 2>&1)
}
# rabbitmq: a client that logs in and publishes, wrong passwords, a user without access, a dropped connection.
s_rabbitmq() {
  amqp alice Wonderland-1 publish; amqp alice wrong publish; amqp nobody x publish; amqp guestbook Guestbook-2 publish; amqp alice Wonderland-1 drop
}
# rsync: a backup, a listing, a wrong password, an unknown module, a write to a read-only module.
s_rsync() {
  RSYNC_PASSWORD=Wonderland-1 rsync -q "$W/payload.txt" "rsync://alice@127.0.0.1:8730/backup/payload-$round.txt" 2>/dev/null
  rsync -q rsync://127.0.0.1:8730/ >/dev/null 2>&1
  rsync -q rsync://127.0.0.1:8730/public/readme.txt "$W/readme-$round.txt" 2>/dev/null
  RSYNC_PASSWORD=nope rsync -q "$W/payload.txt" rsync://alice@127.0.0.1:8730/backup/ 2>/dev/null
  rsync -q rsync://127.0.0.1:8730/secret/ "$W/x" 2>/dev/null
  rsync -q "$W/payload.txt" rsync://127.0.0.1:8730/public/ 2>/dev/null
}
# supervisord: an operator restarts a service and asks for a missing one.
s_supervisord() {
  "${SCTL[@]}" restart exporter >/dev/null 2>&1; "${SCTL[@]}" start queue-runner >/dev/null 2>&1; "${SCTL[@]}" stop nosuch >/dev/null 2>&1
}
# gunicorn: requests, an exception in the app, a request slower than the timeout.
s_gunicorn() {
  for p in / /items/7 /items/x /items/999 /report /health; do http "http://127.0.0.1:8095$p"; done
  http -X POST -d 'sku=' http://127.0.0.1:8095/items
  [ $((round % 2)) = 1 ] && http -m 8 http://127.0.0.1:8095/export
}
# chronyd: an operator forces a burst and a step, and asks for the sources.
s_chronyd() {
  "${CHRONYC[@]}" burst 2/4 >/dev/null 2>&1; "${CHRONYC[@]}" makestep >/dev/null 2>&1
}
# ansible: a deploy that works, one that fails, an unreachable host, deprecated syntax.
s_ansible() {
  play deploy.yml -e "release=$round"; play migrate.yml; play legacy.yml
}
for round in $(seq 1 "$ROUNDS"); do
  log "round $round"
  for s in s_mariadb s_named s_lighttpd s_squid s_dovecot s_mosquitto s_openvpn s_slapd s_celery s_rabbitmq s_rsync s_supervisord s_gunicorn s_chronyd s_ansible; do "$s" & done
  wait
done

# ---------------------------------------------------------------- faults and restarts
log "faults and restarts"
# mariadb: a crash (kill -9: recovery at the next start), a bad option, a clean restart.
kill -9 "$(cat "$W/mysql/run/pid")"; sleep 1; my_start
"${MY[@]}" -e "SHUTDOWN" 2>/dev/null; sleep 3
mariadbd "${MYOPTS[@]}" --innodb-buffer-pool-size=lots >/dev/null 2>&1; sleep 1
mariadbd "${MYOPTS[@]}" --no-such-option >/dev/null 2>&1; sleep 1
my_start
"${MY[@]}" -e "SHUTDOWN" 2>/dev/null; sleep 3
# named: a reload with a syntax error in its configuration, a stop.
cp "$W/bind/named.conf" "$W/bind/named.conf.good"; echo "options { bogus-option yes; };" >> "$W/bind/named.conf"
"${RNDC[@]}" reconfig >/dev/null 2>&1; cp "$W/bind/named.conf.good" "$W/bind/named.conf"; "${RNDC[@]}" reconfig >/dev/null 2>&1
"${RNDC[@]}" stop >/dev/null 2>&1
# php-fpm: a killed child, a graceful reload.
kill -9 "$(pgrep -f 'php-fpm: pool www' | head -1)" 2>/dev/null; sleep 1
kill -USR2 "$(cat "$W/php/fpm.pid")"; sleep 1
# lighttpd: a configuration with an unknown module, then a stop.
sed 's/"mod_fastcgi")/"mod_fastcgi", "mod_nosuch")/' "$W/lighttpd.conf" > "$W/lighttpd-bad.conf"; lighttpd -f "$W/lighttpd-bad.conf" 2>>"$RAW/lighttpd-error.log"
# squid: a reconfigure, an origin that is down.
squid -f "$W/squid/squid.conf" -k reconfigure; sleep 2
kill "$(cat "$W/lighttpd.pid")"; sleep 1; http "${PROXY[@]}" http://127.0.0.1:8082/index.html; lighttpd -f "$W/lighttpd.conf"
# dovecot: a reload; fail2ban unbans after its ban time.
doveadm -c "$W/dovecot/dovecot.conf" reload 2>/dev/null; sleep 1
# mosquitto: a reload, a configuration with an unknown option.
kill -HUP "$(cat "$W/mosquitto/pid")"; printf 'listener 1885 127.0.0.1\nmax_conections 5\n' > "$W/mosquitto/bad.conf"; mosquitto -c "$W/mosquitto/bad.conf" 2>>"$RAW/mosquitto.log"
# openvpn: the server restarted with a static key (a deprecated mode) and a client with the wrong key.
pkill -x openvpn; sleep 1
openvpn --genkey secret "$W/ovpn/other.key" 2>/dev/null
openvpn --dev null --proto udp --local 127.0.0.1 --lport 11941 --secret "$W/ovpn/static.key" --cipher AES-256-CBC --ping 2 --verb 3 --log-append "$RAW/openvpn.log" --daemon; sleep 1
timeout 5 openvpn --dev null --proto udp --remote 127.0.0.1 11941 --secret "$W/ovpn/other.key" --cipher AES-256-CBC --ping 1 --verb 0 >/dev/null 2>&1
timeout 5 openvpn --dev null --proto udp --remote 127.0.0.1 11941 --secret "$W/ovpn/static.key" --cipher AES-256-CBC --ping 1 --verb 0 >/dev/null 2>&1
pkill -x openvpn
# celery: a worker killed in the middle of a task.
(cd "$W/celery" && "$PY" -c "import shoptasks; shoptasks.slow_export.delay(4)" >/dev/null 2>&1); sleep 1
pkill -9 -f 'celery.*ForkPoolWorker' || kill -9 "$(pgrep -f 'celery -A shoptasks' | tail -1)" 2>/dev/null; sleep 3
# rabbitmq: a memory alarm, publishers blocked, cleared.
if [ "$RABBIT_READY" = 1 ]; then
  "${RMQ[@]}" rabbitmqctl -q set_vm_memory_high_watermark 0.00001 >/dev/null 2>&1; sleep 2; amqp alice Wonderland-1 publish
  "${RMQ[@]}" rabbitmqctl -q set_vm_memory_high_watermark 0.4 >/dev/null 2>&1; sleep 2
  "${RMQ[@]}" rabbitmqctl -q set_disk_free_limit 1000GB >/dev/null 2>&1; sleep 2; "${RMQ[@]}" rabbitmqctl -q set_disk_free_limit 50MB >/dev/null 2>&1; sleep 2
fi
# supervisord: a reread, a stop of everything.
"${SCTL[@]}" reread >/dev/null 2>&1; "${SCTL[@]}" stop all >/dev/null 2>&1
# gunicorn: a worker killed, more workers, a reload.
kill -9 "$(pgrep -f 'gunicorn' | tail -1)" 2>/dev/null; sleep 2
kill -TTIN "$(cat "$W/gunicorn/pid")"; sleep 2; kill -HUP "$(cat "$W/gunicorn/pid")"; sleep 2
# chronyd: the server goes away, the client loses its source.
kill "$(cat "$W/chrony/server.pid")"; sleep "${CHRONY_WAIT:-20}"
# fail2ban: bans expire.
sleep 5

# ---------------------------------------------------------------- stop
log "stopping"
kill "$(cat "$W/chrony/client.pid")" 2>/dev/null
kill "$(cat "$W/gunicorn/pid")" 2>/dev/null
"${SCTL[@]}" shutdown >/dev/null 2>&1
kill "$(cat "$W/rsync/pid")" 2>/dev/null
[ "$RABBIT_READY" = 1 ] && "${RMQ[@]}" rabbitmqctl -q stop >/dev/null 2>&1
kill "$(cat "$W/celery/worker.pid")" 2>/dev/null; sleep 2
redis-cli -p 6390 shutdown >/dev/null 2>&1
kill "$(pgrep -x slapd)" 2>/dev/null
kill "$(cat "$W/mosquitto/pid")" 2>/dev/null
"${F2B[@]}" stop >/dev/null 2>&1
doveadm -c "$W/dovecot/dovecot.conf" stop 2>/dev/null
squid -f "$W/squid/squid.conf" -k shutdown; sleep 2
kill "$(cat "$W/lighttpd.pid")" 2>/dev/null
kill "$(cat "$W/php/fpm.pid")" 2>/dev/null
sleep 2; kill "$(cat "$W/rsyslogd.pid")" 2>/dev/null; sleep 1
for u in alice bob; do userdel -r "$u" >/dev/null 2>&1; done
cp "$W/rabbit/log/rabbit@localhost.log" "$RAW/rabbitmq.log" 2>/dev/null
chmod -R a+r "$RAW"
find "$RAW" -type f -exec wc -l {} + >&2
