# Sourced by the mysql image's entrypoint once, when it initialises an empty data volume
# (compose.yml mounts this folder at /docker-entrypoint-initdb.d): the account worker containers use to
# look up whether a job already finished. It may only read the app's database.
#
# On a volume initialised before this file existed, run the same two statements by hand as root:
#   CREATE USER 'executioner_worker'@'%' IDENTIFIED BY '<EXECUTIONER_WORKER_DB_PASSWORD>';
#   GRANT SELECT ON `executioner`.* TO 'executioner_worker'@'%';
docker_process_sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS 'executioner_worker'@'%' IDENTIFIED BY '${EXECUTIONER_WORKER_DB_PASSWORD}';
GRANT SELECT ON \`${MYSQL_DATABASE}\`.* TO 'executioner_worker'@'%';
EOSQL
