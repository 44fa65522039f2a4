#!/bin/bash
# Entry point of the Tsumugi image for the QUIC interop runner
# (github.com/quic-interop/quic-interop-runner). The runner sets ROLE,
# TESTCASE, REQUESTS, SSLKEYLOGFILE and QLOGDIR, mounts /www, /downloads
# and /certs, and runs this script in its network simulator.
set -e

# Routes through the simulator (provided by the endpoint base image).
/setup.sh

if [ "$ROLE" == "client" ]; then
	# Wait for the simulator to come up.
	/wait-for-it.sh sim:57832 -s -t 30
fi

# Unsupported test cases exit with 127, as the runner expects.
exec /tsumugi interop
