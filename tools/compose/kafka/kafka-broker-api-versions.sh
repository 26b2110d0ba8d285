#!/bin/bash
# Shim at the apache/kafka image's path, for docker-compose.yml's healthcheck: succeeds when the
# broker accepts a connection on the port of --bootstrap-server (default localhost:9092).
server=localhost:9092
while [ $# -gt 0 ]; do
  if [ "$1" = "--bootstrap-server" ]; then server="$2"; shift; fi
  shift
done
exec 3<>"/dev/tcp/${server%:*}/${server##*:}"
