#!/usr/bin/env bash
# Installs and starts the PostgreSQL and MariaDB servers that the database
# tests of mockforged talk to. Run it as root on Debian:
#
#   sudo bash .ci/databases.sh
#
# Both servers listen on 127.0.0.1 only, on fixed test ports, with a test
# user and database. Running the script again does nothing when the servers
# are already up. It needs no systemd: PostgreSQL is started with
# pg_ctlcluster and MariaDB as a daemon of its own, each under its own user.
set -euo pipefail

PG_PORT=55432
PG_CLUSTER=mockforge
MARIADB_PORT=53306
MARIADB_DATA=/var/lib/mockforge-mariadb
MARIADB_RUN=/run/mockforge-mariadb
DB_USER=mockforge
DB_PASSWORD=mockforge
DB_NAME=mockforge_test

log() { echo "databases.sh: $*"; }
die() { echo "databases.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: sudo bash .ci/databases.sh"

install_packages() {
	local missing=()
	command -v pg_createcluster >/dev/null 2>&1 || missing+=(postgresql)
	[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
	if [ "${#missing[@]}" -eq 0 ]; then
		return
	fi
	log "installing ${missing[*]}"
	# Keep the packages' maintainer scripts from starting the default
	# servers on the standard ports: this script starts its own instances.
	local policy=/usr/sbin/policy-rc.d added_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		added_policy=1
	fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
	if [ "$added_policy" -eq 1 ]; then
		rm -f "$policy"
	fi
}

# ensure_certificate makes Debian's self-signed "snakeoil" certificate,
# which both servers use for TLS, when the ssl-cert package has not yet.
ensure_certificate() {
	if [ ! -e /etc/ssl/certs/ssl-cert-snakeoil.pem ]; then
		make-ssl-cert generate-default-snakeoil
	fi
}

postgres_version() {
	ls /usr/lib/postgresql | sort -V | tail -n 1
}

start_postgres() {
	local version
	version=$(postgres_version)
	[ -n "$version" ] || die "no PostgreSQL server found under /usr/lib/postgresql"

	if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version $PG_CLUSTER"; then
		log "creating PostgreSQL $version cluster $PG_CLUSTER on port $PG_PORT"
		pg_createcluster "$version" "$PG_CLUSTER" --port "$PG_PORT" --start-conf manual
	fi
	# A drop-in file under conf.d, which Debian's postgresql.conf includes,
	# overrides the defaults. TLS stays on so that the tests can check how
	# the proxy handles a client's SSLRequest.
	cat >"/etc/postgresql/$version/$PG_CLUSTER/conf.d/mockforge.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
ssl = on
ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'
ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'
CONF

	if pg_lsclusters -h | awk -v v="$version" -v c="$PG_CLUSTER" '$1 == v && $2 == c {print $4}' | grep -qx online; then
		log "PostgreSQL is already running on 127.0.0.1:$PG_PORT"
	else
		log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
		pg_ctlcluster "$version" "$PG_CLUSTER" start
	fi

	local i
	for i in $(seq 1 60); do
		pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
		sleep 1
	done
	pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL did not become ready on 127.0.0.1:$PG_PORT"

	su postgres -c "psql -q -p $PG_PORT -v ON_ERROR_STOP=1" <<SQL
DO \$\$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
		CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
	END IF;
END
\$\$;
SQL
	if ! su postgres -c "psql -tA -p $PG_PORT -c \"SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'\"" | grep -qx 1; then
		su postgres -c "createdb -p $PG_PORT -O $DB_USER $DB_NAME"
	fi
}

mariadb_ping() {
	mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -u "$DB_USER" -p"$DB_PASSWORD" ping >/dev/null 2>&1 ||
		mariadb-admin --no-defaults --socket="$MARIADB_RUN/mysqld.sock" -u root ping >/dev/null 2>&1
}

start_mariadb() {
	mkdir -p "$MARIADB_RUN"
	chown mysql:mysql "$MARIADB_RUN"

	if mariadb_ping; then
		log "MariaDB is already running on 127.0.0.1:$MARIADB_PORT"
	else
		if [ ! -d "$MARIADB_DATA/mysql" ]; then
			log "initializing MariaDB data directory $MARIADB_DATA"
			mkdir -p "$MARIADB_DATA"
			chown mysql:mysql "$MARIADB_DATA"
			mariadb-install-db --no-defaults --user=mysql --datadir="$MARIADB_DATA" \
				--auth-root-authentication-method=socket --skip-test-db >"$MARIADB_DATA.install.log" 2>&1 ||
				die "mariadb-install-db failed; see $MARIADB_DATA.install.log"
		fi
		# TLS is on, with a copy of the snakeoil certificate that the mysql
		# user can read, so that the tests can check how the proxy handles
		# a client's SSL request.
		install -d -o mysql -g mysql -m 700 "$MARIADB_DATA-tls"
		install -o mysql -g mysql -m 644 /etc/ssl/certs/ssl-cert-snakeoil.pem "$MARIADB_DATA-tls/cert.pem"
		install -o mysql -g mysql -m 600 /etc/ssl/private/ssl-cert-snakeoil.key "$MARIADB_DATA-tls/key.pem"
		log "starting MariaDB on 127.0.0.1:$MARIADB_PORT"
		setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MARIADB_DATA" \
			--port="$MARIADB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
			--ssl-cert="$MARIADB_DATA-tls/cert.pem" --ssl-key="$MARIADB_DATA-tls/key.pem" \
			--socket="$MARIADB_RUN/mysqld.sock" --pid-file="$MARIADB_RUN/mysqld.pid" \
			--log-error="$MARIADB_DATA/error.log" </dev/null >/dev/null 2>&1 &
		disown
	fi

	local i
	for i in $(seq 1 60); do
		mariadb_ping && break
		sleep 1
	done
	mariadb_ping || die "MariaDB did not become ready on 127.0.0.1:$MARIADB_PORT; see $MARIADB_DATA/error.log"

	mariadb --no-defaults --socket="$MARIADB_RUN/mysqld.sock" -u root <<SQL
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
SQL
}

install_packages
ensure_certificate
start_postgres
start_mariadb
log "PostgreSQL: postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
log "MariaDB:    $DB_USER:$DB_PASSWORD@tcp(127.0.0.1:$MARIADB_PORT)/$DB_NAME"
