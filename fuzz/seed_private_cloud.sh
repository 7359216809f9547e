#!/usr/bin/env bash
# Seeds corpus/private_cloud: every private-cloud vector (server answer files
# and privateConfig files, good and bad: ../fixtures/vectors/private-cloud).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/private_cloud
cp ../fixtures/vectors/private-cloud/*.bin corpus/private_cloud/
ls corpus/private_cloud | wc -l
