#!/usr/bin/env bash
# Captures what real Debian programs log while scripted scenarios drive them.
#
#   sudo bench/reallogs/capture.sh [WORKDIR]      (Debian 12, as root)
#
# Installs the programs (apt), starts each by hand on loopback ports with its
# own configuration under WORKDIR (default /tmp/logsift-reallogs), drives the
# scenarios below, stops them and leaves each program's raw log in
# WORKDIR/raw/. Then `python3 bench/reallogs/build.py WORKDIR/raw` labels the
# lines by the hand-written template table (templates.tsv) and writes
# bench/reallogs/reallogs.csv.
#
# Programs: rsyslogd (the collector), sshd, sudo, su, the shadow tools
# (useradd/usermod/userdel/groupadd/chpasswd), cron, nginx, apache2,
# postgresql, redis, vsftpd, postfix, haproxy, and two services of our own
# (shopd.py, a Python order service, and Billing.java, a JVM billing job)
# that do real work on bad input and log what the runtime raises.
#
# It changes the machine it runs on (users alice/bob, packages, /etc/cron.d):
# run it in a throwaway container or VM, never on a machine you care about.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
W="${1:-/tmp/logsift-reallogs}"
RAW="$W/raw"
ROUNDS="${ROUNDS:-3}"
rm -rf "$W"; mkdir -p "$RAW"; chmod 755 "$W" "$RAW"
log() { echo "== $*" >&2; }

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  log "installing programs"
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string lab.example" | debconf-set-selections
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server openssh-client sshpass nginx apache2 postgresql \
    redis-server redis-tools rsyslog cron sudo vsftpd postfix haproxy curl bsd-mailx default-jdk-headless python3 openssl
fi

# Anything left from an earlier run holds the ports.
pkill -f 'nginx: master' ; pkill -x apache2 ; pkill -x haproxy ; pkill -x vsftpd ; pkill -x redis-server
pkill -f 'sshd -f .*/sshd_config' ; pkill -f 'postgres -D' ; postfix stop >/dev/null 2>&1 ; sleep 1

# ---------------------------------------------------------------- collector
log "rsyslogd"
cat > "$W/rsyslog.conf" <<CONF
module(load="imuxsock" SysSock.Name="/dev/log")
input(type="imuxsock" Socket="/var/spool/postfix/dev/log" CreatePath="on")
\$template Plain,"%timestamp% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n"
*.* action(type="omfile" file="$RAW/syslog.log" template="Plain")
CONF
pkill -x rsyslogd; rm -f /run/rsyslogd.pid
rsyslogd -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid"
sleep 1

# ---------------------------------------------------------------- users
log "users"
for u in alice bob carol dave; do userdel -r "$u" >/dev/null 2>&1; done
useradd -m -s /bin/bash alice; echo 'alice:Wonderland-1' | chpasswd; usermod -aG sudo alice
useradd -m -s /bin/bash bob; echo 'bob:Builder-22' | chpasswd
echo 'hello from alice' > /home/alice/notes.txt; chown alice: /home/alice/notes.txt

# ---------------------------------------------------------------- cron
log "cron"
cat > /etc/cron.d/logsift-lab <<'CRON'
* * * * * root /bin/true
* * * * * alice /usr/bin/test -f /home/alice/notes.txt
*/2 * * * * root /bin/sh -c 'ls /nonexistent-dir >/dev/null 2>&1 || exit 2'
CRON
printf '61 * * * * root /bin/true\nnot a line at all\n' > /etc/cron.d/logsift-broken
chmod 644 /etc/cron.d/logsift-lab /etc/cron.d/logsift-broken
pkill -x cron; cron -L 15

# ---------------------------------------------------------------- sshd
log "sshd"
mkdir -p /run/sshd
cat > "$W/sshd_config" <<CONF
Port 2222
ListenAddress 127.0.0.1
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
PermitRootLogin no
MaxAuthTries 3
LogLevel INFO
UsePrivilegeSeparation sandbox
RhostsRSAAuthentication no
Protocol 2
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
sshd_start() { /usr/sbin/sshd -f "$W/sshd_config" 2>>"$RAW/sshd-stderr.log"; sleep 0.5; }
sshd_stop() { pkill -f "sshd -f $W/sshd_config"; sleep 0.5; }
sshd_start
SSH=(ssh -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=password -o PubkeyAuthentication=no -o ConnectTimeout=5 -o NumberOfPasswordPrompts=1 -o LogLevel=ERROR)

# ---------------------------------------------------------------- nginx
log "nginx"
mkdir -p "$W/www/private" "$W/www/static"
echo '<h1>lab</h1>' > "$W/www/index.html"; echo 'body{}' > "$W/www/static/site.css"; echo secret > "$W/www/private/key.txt"
chmod 700 "$W/www/private"; chmod 755 "$W/www" "$W/www/static"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=lab.example -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
cat > "$W/nginx.conf" <<CONF
user www-data;
worker_processes 2;
pid $W/nginx.pid;
error_log $RAW/nginx-error.log notice;
events { worker_connections 24; }
http {
  access_log $RAW/nginx-access.log combined;
  client_body_temp_path $W/nginx-tmp;
  limit_req_zone \$binary_remote_addr zone=one:1m rate=2r/s;
  server {
    listen 127.0.0.1:8080;
    root $W/www;
    location /app/ { proxy_pass http://127.0.0.1:9; }
    location /slow/ { proxy_pass http://127.0.0.1:8099/; proxy_read_timeout 1s; }
    location /old { return 301 /index.html; }
    location /api/ { limit_req zone=one; return 200 "ok\n"; }
  }
  server {
    listen 127.0.0.1:8443;
    ssl on;
    ssl_certificate $W/cert.pem;
    ssl_certificate_key $W/key.pem;
    root $W/www;
  }
}
CONF
mkdir -p "$W/nginx-tmp"
nginx -c "$W/nginx.conf"
# A slow upstream for timeouts.
python3 -c '
import http.server, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(3); self.send_response(200); self.end_headers(); self.wfile.write(b"late")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", 8099), H).serve_forever()' &
SLOW_PID=$!; disown "$SLOW_PID"

# ---------------------------------------------------------------- apache2
log "apache2"
M=/usr/lib/apache2/modules
mkdir -p "$W/apache/htdocs/denied" "$W/apache/htdocs/broken" "$W/apache/run"
echo '<h1>apache lab</h1>' > "$W/apache/htdocs/index.html"
echo 'FooBarDirective on' > "$W/apache/htdocs/broken/.htaccess"; echo x > "$W/apache/htdocs/broken/index.html"
chmod -R a+rX "$W/apache"
cat > "$W/apache/apache2.conf" <<CONF
ServerRoot $W/apache
ServerName lab.example
Listen 127.0.0.1:8081
PidFile $W/apache/run/apache2.pid
Mutex file:$W/apache/run default
LoadModule mpm_prefork_module $M/mod_mpm_prefork.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule authz_host_module $M/mod_authz_host.so
LoadModule dir_module $M/mod_dir.so
LoadModule mime_module $M/mod_mime.so
LoadModule alias_module $M/mod_alias.so
User www-data
Group www-data
StartServers 2
MaxRequestWorkers 4
DocumentRoot $W/apache/htdocs
DirectoryIndex index.html
TypesConfig /etc/mime.types
ErrorLog $RAW/apache-error.log
LogLevel notice
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog $RAW/apache-access.log combined
Redirect permanent /legacy /index.html
<Directory $W/apache/htdocs>
  AllowOverride All
  Require all granted
</Directory>
<Directory $W/apache/htdocs/denied>
  Require all denied
</Directory>
CONF
APACHE=(apache2 -d "$W/apache" -f "$W/apache/apache2.conf")
"${APACHE[@]}" -k start

# ---------------------------------------------------------------- postgresql
log "postgresql"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
mkdir -p "$W/pg" "$W/pgsock"; chown postgres: "$W/pg" "$W/pgsock"
echo 'Lab-Secret-9' > "$W/pgpw"; chown postgres: "$W/pgpw"
runuser -u postgres -- "$PGBIN/initdb" -D "$W/pg/data" -U postgres --pwfile="$W/pgpw" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
cat >> "$W/pg/data/postgresql.conf" <<CONF
port = 5433
listen_addresses = '127.0.0.1'
unix_socket_directories = '$W/pgsock'
max_connections = 8
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 400
log_checkpoints = on
log_connections = on
log_disconnections = on
log_autovacuum_min_duration = 0
autovacuum_naptime = 5
CONF
touch "$RAW/postgresql.log"; chown postgres: "$RAW/postgresql.log"
PGCTL=(runuser -u postgres -- "$PGBIN/pg_ctl" -D "$W/pg/data" -l "$RAW/postgresql.log" -w)
"${PGCTL[@]}" start >/dev/null
PSQL=(psql -h 127.0.0.1 -p 5433 -U postgres -X -q)
export PGPASSWORD=Lab-Secret-9 PGCONNECT_TIMEOUT=5
"${PSQL[@]}" -c "CREATE DATABASE shop" ; "${PSQL[@]}" -d shop -c "CREATE TABLE orders(id int primary key, customer text, total numeric); INSERT INTO orders SELECT g, 'c'||g, g*1.5 FROM generate_series(1,20000) g;"
"${PSQL[@]}" -c "CREATE ROLE report LOGIN PASSWORD 'Report-Pw-3'"

# ---------------------------------------------------------------- redis
log "redis"
mkdir -p "$W/redis"; chown redis: "$W/redis" 2>/dev/null
touch "$RAW/redis.log"; chmod 666 "$RAW/redis.log"
REDIS_OPTS=(--port 6380 --bind 127.0.0.1 --dir "$W/redis" --logfile "$RAW/redis.log" --daemonize yes --pidfile "$W/redis.pid" --save "" --maxmemory 2mb --maxmemory-policy noeviction)
redis-server "${REDIS_OPTS[@]}"; sleep 1
RCLI=(redis-cli -p 6380)

# ---------------------------------------------------------------- vsftpd
log "vsftpd"
mkdir -p /var/run/vsftpd/empty
cat > "$W/vsftpd.conf" <<CONF
listen=YES
listen_address=127.0.0.1
listen_port=2121
background=YES
anonymous_enable=NO
local_enable=YES
write_enable=YES
xferlog_enable=YES
xferlog_std_format=NO
vsftpd_log_file=$RAW/vsftpd.log
log_ftp_protocol=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
pasv_min_port=40000
pasv_max_port=40100
CONF
vsftpd "$W/vsftpd.conf"; sleep 0.5

# ---------------------------------------------------------------- postfix
log "postfix"
postconf -e "myhostname=lab.example" "myorigin=lab.example" "inet_interfaces=loopback-only" "mydestination=lab.example, localhost" "maillog_file=" >/dev/null
postfix start >/dev/null 2>&1 || postfix reload >/dev/null 2>&1

# ---------------------------------------------------------------- haproxy
log "haproxy"
cat > "$W/haproxy.cfg" <<CONF
global
  log /dev/log local0
  maxconn 64
defaults
  log global
  mode http
  option httplog
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend web
  bind 127.0.0.1:8090
  use_backend dead if { path_beg /dead }
  default_backend app
backend app
  server web1 127.0.0.1:8080 check inter 2s
  server web2 127.0.0.1:8081 check inter 2s
backend dead
  server gone1 127.0.0.1:9 check inter 1s
CONF
haproxy -f "$W/haproxy.cfg" -D -p "$W/haproxy.pid"

# ---------------------------------------------------------------- our services
log "shopd.py and Billing.java"
mkdir -p "$W/java"; cp "$HERE/Billing.java" "$W/java/"; (cd "$W/java" && javac Billing.java)

# ================================================================ scenarios
ssh_try() { timeout 15 sshpass -p "$2" "${SSH[@]}" "$1@127.0.0.1" "${3:-true}" >/dev/null 2>&1; }
http() { curl -s -o /dev/null -m 5 "$@"; }

for round in $(seq 1 "$ROUNDS"); do
  log "round $round"
  # sshd: good and bad logins, unknown users, brute force, disconnects.
  ssh_try alice Wonderland-1 'ls ~ >/dev/null'
  ssh_try bob Builder-22
  ssh_try alice wrong-pass
  ssh_try bob 12345
  for u in admin oracle test ubuntu guest; do ssh_try "$u" password; done
  for i in 1 2 3 4; do ssh_try root "toor$i"; done
  timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222; echo "GET / HTTP/1.0" >&3; cat <&3 >/dev/null' 2>/dev/null
  timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222; sleep 1' 2>/dev/null
  # sudo and su.
  su alice -c 'echo Wonderland-1 | sudo -S -k /usr/bin/id >/dev/null 2>&1'
  su alice -c 'echo Wonderland-1 | sudo -S -k /usr/bin/apt-get check >/dev/null 2>&1'
  su alice -c 'echo nope | sudo -S -k /usr/bin/id >/dev/null 2>&1'
  su alice -c 'printf "a\nb\nc\n" | sudo -S -k cat /etc/shadow >/dev/null 2>&1'
  su bob -c 'echo Builder-22 | sudo -S -k /usr/bin/id >/dev/null 2>&1'
  su bob -c 'echo Builder-22 | sudo -S -k -u alice /bin/ls >/dev/null 2>&1'
  su bob -c 'sshpass -p Wonderland-1 su alice -c true' >/dev/null 2>&1
  su bob -c 'sshpass -p guessing su alice -c true' >/dev/null 2>&1
  su bob -c 'sshpass -p hunter2 su root -c true' >/dev/null 2>&1
  # Accounts.
  useradd -m -s /bin/bash carol; echo 'carol:Carol-Pw-7' | chpasswd; usermod -aG sudo carol; usermod -L carol
  groupadd -f auditors; usermod -aG auditors carol; gpasswd -d carol auditors >/dev/null; userdel -r carol >/dev/null 2>&1; groupdel auditors
  # nginx: 2xx/3xx/4xx/5xx, timeouts, rate limits, a TLS port.
  for p in / /index.html /static/site.css /old /missing.php /wp-login.php /private/key.txt /app/orders /api/ping /.env; do http "http://127.0.0.1:8080$p"; done
  for i in $(seq 1 8); do http "http://127.0.0.1:8080/api/ping" & done; wait
  http http://127.0.0.1:8080/slow/report
  http -X POST -d 'name=x' http://127.0.0.1:8080/index.html
  http -k https://127.0.0.1:8443/ ; http -k https://127.0.0.1:8443/nothing
  # apache: 2xx/3xx/403/404/500.
  for p in / /index.html /legacy /denied/ /broken/ /nope.html /cgi-bin/test.cgi "/../../etc/passwd"; do http "http://127.0.0.1:8081$p"; done
  # haproxy in front of both.
  for p in / /index.html /missing /dead/x /old; do http "http://127.0.0.1:8090$p"; done
  # postgresql: logins, errors, slow queries, too many clients.
  "${PSQL[@]}" -d shop -c "SELECT count(*) FROM orders" >/dev/null
  PGPASSWORD=guess "${PSQL[@]}" -c "SELECT 1" 2>/dev/null
  PGPASSWORD=x psql -h 127.0.0.1 -p 5433 -U nosuchuser -X -q -c "SELECT 1" 2>/dev/null
  "${PSQL[@]}" -d nosuchdb -c "SELECT 1" 2>/dev/null
  "${PSQL[@]}" -d shop -c "SELEC * FROM orders" 2>/dev/null
  "${PSQL[@]}" -d shop -c "SELECT * FROM invoices" 2>/dev/null
  "${PSQL[@]}" -d shop -c "INSERT INTO orders VALUES (1, 'dup', 1)" 2>/dev/null
  "${PSQL[@]}" -d shop -c "SELECT 1/0" 2>/dev/null
  "${PSQL[@]}" -d shop -c "SELECT pg_sleep(0.6)" >/dev/null
  "${PSQL[@]}" -d shop -c "SELECT sum(a.total) FROM orders a JOIN orders b ON a.customer < b.customer WHERE a.id < 1500 AND b.id < 1500" >/dev/null
  "${PSQL[@]}" -d shop -c "UPDATE orders SET total = total + 1 WHERE id % 3 = 0" >/dev/null
  PGPASSWORD=Report-Pw-3 psql -h 127.0.0.1 -p 5433 -U report -X -q -d shop -c "DELETE FROM orders WHERE id = 5" 2>/dev/null
  for i in $(seq 1 10); do "${PSQL[@]}" -d shop -c "SELECT pg_sleep(1.5)" >/dev/null 2>&1 & done; sleep 0.5
  "${PSQL[@]}" -c "SELECT 1" >/dev/null 2>&1; wait
  "${PSQL[@]}" -c "CHECKPOINT" >/dev/null
  # redis: saves, a replica whose primary is down, HTTP sent to it, memory limit.
  "${RCLI[@]}" set greeting hello >/dev/null; "${RCLI[@]}" bgsave >/dev/null; sleep 1; "${RCLI[@]}" save >/dev/null
  curl -s -m 2 -X POST -d 'x' http://127.0.0.1:6380/ >/dev/null
  "${RCLI[@]}" replicaof 127.0.0.1 6399 >/dev/null; sleep 3; "${RCLI[@]}" replicaof no one >/dev/null
  "${RCLI[@]}" config set maxmemory 1mb >/dev/null; "${RCLI[@]}" debug populate 20000 >/dev/null 2>&1; "${RCLI[@]}" flushall >/dev/null
  "${RCLI[@]}" client kill 127.0.0.1:1 >/dev/null 2>&1
  # vsftpd: logins, uploads, downloads, refusals.
  curl -s -m 5 -u alice:Wonderland-1 "ftp://127.0.0.1:2121/notes.txt" -o /dev/null
  curl -s -m 5 -u alice:Wonderland-1 -T /etc/hostname "ftp://127.0.0.1:2121/upload-$round.txt"
  curl -s -m 5 -u alice:Wonderland-1 -T /etc/hostname "ftp://127.0.0.1:2121/../../root/x.txt"
  curl -s -m 5 -u alice:Wonderland-1 "ftp://127.0.0.1:2121/missing.bin" -o /dev/null
  curl -s -m 5 -u bob:not-it "ftp://127.0.0.1:2121/" -o /dev/null
  curl -s -m 5 -u mallory:x "ftp://127.0.0.1:2121/" -o /dev/null
  # postfix: delivered, bounced.
  echo "round $round report" | mail -s "report $round" alice
  echo "hello" | mail -s "to nobody" nosuchuser@lab.example
  echo "hi" | mail -s "external" someone@example.invalid
  # faults: a killed nginx worker, a redis and an apache started on a bad configuration.
  kill -9 "$(pgrep -f 'nginx: worker' | head -1)" 2>/dev/null; sleep 0.5
  printf 'port 6381\nmaxmemory-polcy allkeys-lru\n' > "$W/redis-bad.conf"; redis-server "$W/redis-bad.conf" >>"$RAW/redis.log" 2>&1
  cp "$W/apache/apache2.conf" "$W/apache/bad.conf"; echo "NoSuchDirective on" >> "$W/apache/bad.conf"
  apache2 -d "$W/apache" -f "$W/apache/bad.conf" -k start 2>>"$RAW/apache-error.log"
  # our services
  python3 "$HERE/shopd.py" --round "$round" 2>>"$RAW/shopd.log"
  (cd "$W/java" && java -Djava.util.logging.SimpleFormatter.format='%1$tF %1$tT %4$s %3$s - %5$s%6$s%n' Billing "$round" 2>>"$RAW/billing.log")
  sleep 2
done

# ---------------------------------------------------------------- faults and restarts
log "faults and restarts"
# nginx: a killed worker, a reload, a bad configuration, overload.
kill -9 "$(pgrep -f 'nginx: worker' | head -1)"; sleep 1
nginx -c "$W/nginx.conf" -s reload; sleep 1
sed 's/worker_processes 2;/worker_processes 2;\nfoo_directive on;/' "$W/nginx.conf" > "$W/nginx-bad.conf"
nginx -t -c "$W/nginx-bad.conf" >/dev/null 2>&1
for i in $(seq 1 40); do http "http://127.0.0.1:8080/slow/x$i" & done; wait
# apache: graceful restart, stop, a bad configuration, start.
"${APACHE[@]}" -k graceful; sleep 1
"${APACHE[@]}" -k stop; sleep 1
cp "$W/apache/apache2.conf" "$W/apache/bad.conf"; echo "NoSuchDirective on" >> "$W/apache/bad.conf"
apache2 -d "$W/apache" -f "$W/apache/bad.conf" -k start 2>>"$RAW/apache-error.log"
"${APACHE[@]}" -k start; sleep 1
# sshd: restart (reads the deprecated options again).
sshd_stop; sshd_start; ssh_try alice Wonderland-1; sshd_stop; sshd_start
# postgresql: a killed backend (crash recovery), a restart, a bad setting.
"${PSQL[@]}" -d shop -c "SELECT pg_sleep(5)" >/dev/null 2>&1 & sleep 1
kill -9 "$(pgrep -f 'postgres: postgres shop' | head -1)"; wait; sleep 2
"${PGCTL[@]}" restart >/dev/null
echo "shared_buffers = 'lots'" >> "$W/pg/data/postgresql.conf"
"${PGCTL[@]}" restart >/dev/null 2>&1
sed -i '$d' "$W/pg/data/postgresql.conf"; "${PGCTL[@]}" start >/dev/null 2>&1
# postgresql: a full disk for a tablespace.
mkdir -p "$W/tiny" && mount -t tmpfs -o size=2m tmpfs "$W/tiny" && chown postgres: "$W/tiny" && {
  "${PSQL[@]}" -c "CREATE TABLESPACE tiny LOCATION '$W/tiny'"
  "${PSQL[@]}" -d shop -c "CREATE TABLE big(x text) TABLESPACE tiny; INSERT INTO big SELECT repeat('x', 500) FROM generate_series(1, 20000)" 2>/dev/null
  "${PSQL[@]}" -d shop -c "DROP TABLE big" ; "${PSQL[@]}" -c "DROP TABLESPACE tiny"; umount "$W/tiny"; }
# redis: a restart, a bad configuration.
"${RCLI[@]}" shutdown >/dev/null 2>&1; sleep 1
redis-server "${REDIS_OPTS[@]}"; sleep 1
printf 'port 6381\nmaxmemory-polcy allkeys-lru\n' > "$W/redis-bad.conf"; redis-server "$W/redis-bad.conf" >>"$RAW/redis.log" 2>&1
# haproxy: a backend going down and up.
"${APACHE[@]}" -k stop; sleep 5; "${APACHE[@]}" -k start; sleep 5
# cron: let it run a few minutes' jobs.
log "waiting for cron"; sleep "${CRON_WAIT:-65}"

# ---------------------------------------------------------------- stop
log "stopping"
kill "$(cat "$W/haproxy.pid")" 2>/dev/null
postfix stop >/dev/null 2>&1
pkill -f "vsftpd $W/vsftpd.conf"
"${RCLI[@]}" shutdown >/dev/null 2>&1
"${PGCTL[@]}" stop >/dev/null
"${APACHE[@]}" -k stop
nginx -c "$W/nginx.conf" -s quit
kill "$SLOW_PID" 2>/dev/null
sshd_stop
pkill -x cron; rm -f /etc/cron.d/logsift-lab /etc/cron.d/logsift-broken
sleep 2; kill "$(cat "$W/rsyslogd.pid")" 2>/dev/null; sleep 1
for u in alice bob; do userdel -r "$u" >/dev/null 2>&1; done
chmod -R a+r "$RAW"
wc -l "$RAW"/* >&2
