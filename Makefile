# FsDirectory: `make run` serves the demo data, `make test` runs the whole suite.
# Both provision a private MariaDB (Debian's package, loopback only, data in .data/) when needed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DB           := scripts/mariadb.sh
RUN_DB_DIR   := .data/mariadb
TEST_DB_DIR  := .data/mariadb-test
DATABASE     ?= fsdirectory
URLS         ?= http://127.0.0.1:8080
CONFIG       ?= Release

FSDIR_OUT    ?= bin/fsdir

.PHONY: help run stop test build fsdir package certs cluster bench bench-console bench-audit bench-micro bench-memory bench-soak load-run db screenshots

help:
	@echo "make run    provision MariaDB (if ConnectionStrings__Default is unset), load schema + demo data, serve on $(URLS)"
	@echo "make test   provision a throwaway MariaDB (and Chromium) and run the whole test suite"
	@echo "make fsdir  publish the CLI as one native binary: $(FSDIR_OUT)/fsdir"
	@echo "make package  dist/fsdirectory_<version>_amd64.deb with Debian's tooling (installs debhelper, lintian when missing)"
	@echo "make certs  a lab CA, a server certificate and one client certificate per switch in .data/certs (docs/security.md)"
	@echo "make screenshots  regenerate docs/console-*.png from the browser tests"
	@echo "make cluster  3-node Galera cluster on 127.0.0.11-13 plus 2 instances (http://127.0.0.1:8081, :8082)"
	@echo "make stop   stop what make run and make cluster started"
	@echo "make bench  end-to-end benchmark (see BENCHMARKS.md)"
	@echo "make bench-console  the admin console's pages over 100k rules (BENCHMARKS.md)"
	@echo "make bench-audit  an admin write with and without its audit record, over 100k rules (BENCHMARKS.md)"
	@echo "make bench-micro  BenchmarkDotNet: IP matcher, snapshot build, acl.conf, dialplan answer"
	@echo "make bench-memory what a 1M-rule snapshot keeps live, part by part"
	@echo "make bench-soak  what each edit at 1M rules allocates, and what the GC keeps (server GC)"

build:
	dotnet build FsDirectory.sln -c $(CONFIG) --nologo -v quiet

# fsdir as it ships (/usr/bin/fsdir in the package): one native (AOT) binary that starts at once (BENCHMARKS.md,
# "fsdir startup"). Needs a C toolchain for the native link (clang, or gcc); fsdir.dbg beside it holds the symbols.
fsdir:
	dotnet publish src/FsDirectory.Cli/FsDirectory.Cli.csproj -c Release -r linux-x64 --nologo -v quiet -o $(FSDIR_OUT)

# A configured database (ConnectionStrings__Default) is used as it is: nothing is installed or seeded.
# The local demo also gets a console key: random, made once into .data/ (git-ignored), passed only to this
# loopback demo as Admin:DemoKey (the service refuses it on any other listener) and printed at start-up.
DEMO_KEY_FILE := .data/console-demo-key

run: build
	@if [ -z "$$ConnectionStrings__Default" ]; then \
	  $(DB) start $(RUN_DB_DIR) && $(DB) apply $(RUN_DB_DIR) $(DATABASE) --seed && \
	  export ConnectionStrings__Default="$$($(DB) connection-string $(RUN_DB_DIR) $(DATABASE))" && \
	  if [ ! -s $(DEMO_KEY_FILE) ]; then (umask 077 && head -c 30 /dev/urandom | base64 | tr -d '/+=\n' > $(DEMO_KEY_FILE)); fi && \
	  export Admin__DemoKey="$$(cat $(DEMO_KEY_FILE))"; \
	fi; \
	exec dotnet run --project src/FsDirectory -c $(CONFIG) --no-build -- --urls "$(URLS)"

stop:
	$(DB) stop $(RUN_DB_DIR)
	scripts/cluster.sh stop

# Scale-out on one machine: a MariaDB Galera cluster of three nodes on loopback (127.0.0.11-13, port
# 3407) with the demo data, and two instances on different nodes (README, "Deployment at scale").
# EVENT_SOCKET=host:port (default 127.0.0.1:8021) and EVENT_SOCKET_PASSWORD name the switch both push to.
cluster: build
	CONFIG=$(CONFIG) scripts/cluster.sh start

# The suite creates its own databases on this server (schema, migrations and seed applied with the
# mariadb client, as a DBA would). Without FSDIR_TEST_MARIADB the database tests fail; they never skip.
# The admin console's scenarios run in Debian's headless Chromium, installed like MariaDB when missing;
# the high-availability scenarios run Debian's HAProxy with the shipped freeswitch-conf/haproxy config.
test:
	scripts/chromium.sh ensure
	scripts/haproxy.sh ensure
	scripts/package.sh ensure
	$(DB) reset $(TEST_DB_DIR)
	$(DB) start $(TEST_DB_DIR)
	@export FSDIR_TEST_MARIADB="$$($(DB) server $(TEST_DB_DIR))"; \
	dotnet test FsDirectory.sln -c $(CONFIG) --nologo --logger "console;verbosity=normal" ; rc=$$?; \
	$(DB) reset $(TEST_DB_DIR); exit $$rc

# The Debian package (debian/): the service and fsdir self-contained, the unit, the settings, the SQL.
# `make test` builds it once more, installs it with dpkg, checks it and purges it.
package:
	scripts/package.sh build dist

# A lab PKI for HTTPS and the switches' client certificates (ECDSA P-256): CERT_NAME and CERT_IP name the
# service as the switches reach it, SWITCHES the client certificates to issue.
CERT_DIR  ?= .data/certs
CERT_NAME ?= fsdirectory.local
CERT_IP   ?= 127.0.0.1
SWITCHES  ?= switch1 switch2
certs:
	scripts/certs.sh $(CERT_DIR) $(CERT_NAME) $(CERT_IP) $(SWITCHES)

# docs/console-list.png, docs/console-form.png, docs/console-list-390.png: taken by the browser test that
# checks them, over the demo data, so the README's pictures show the console as it is.
SHOTS_DB_DIR := .data/mariadb-screenshots

screenshots: build
	scripts/chromium.sh ensure
	$(DB) start $(SHOTS_DB_DIR)
	@export FSDIR_TEST_MARIADB="$$($(DB) server $(SHOTS_DB_DIR))" FSDIR_SCREENSHOTS_DIR=docs; \
	dotnet test tests/FsDirectory.Tests -c $(CONFIG) --no-build --nologo --filter "FullyQualifiedName~Screenshots_of_the_list_and_the_form" ; rc=$$?; \
	$(DB) reset $(SHOTS_DB_DIR); exit $$rc

# End-to-end: a private MariaDB loaded with 100k IP rules + 100k devices (and 1M rules for the memory
# figure), the real service in Release on loopback with a ceiling endpoint beside it, and a C# load generator.
BENCH_DB_DIR   := .data/bench
BENCH_DATABASE := fsdir_bench
BENCH_ARGS     ?= --million
BENCH_BIN      := bin/Release/net10.0

bench:
	dotnet build FsDirectory.sln -c Release --nologo -v quiet
	$(DB) start $(BENCH_DB_DIR)
	$(DB) apply $(BENCH_DB_DIR) $(BENCH_DATABASE)
	dotnet benchmarks/FsDirectory.Benchmarks/$(BENCH_BIN)/FsDirectory.Benchmarks.dll e2e \
	  --connection "$$($(DB) connection-string $(BENCH_DB_DIR) $(BENCH_DATABASE))" \
	  --host benchmarks/FsDirectory.BenchHost/$(BENCH_BIN)/FsDirectory.BenchHost.dll --out .data/bench-results.md $(BENCH_ARGS)

# The admin console's pages over 100k rules: server time (Server-Timing) and whole-request time.
bench-console:
	dotnet build FsDirectory.sln -c Release --nologo -v quiet
	$(DB) start $(BENCH_DB_DIR)
	$(DB) apply $(BENCH_DB_DIR) $(BENCH_DATABASE)
	dotnet benchmarks/FsDirectory.Benchmarks/$(BENCH_BIN)/FsDirectory.Benchmarks.dll console \
	  --connection "$$($(DB) connection-string $(BENCH_DB_DIR) $(BENCH_DATABASE))" \
	  --host benchmarks/FsDirectory.BenchHost/$(BENCH_BIN)/FsDirectory.BenchHost.dll --out .data/bench-console.md

bench-audit:
	dotnet build FsDirectory.sln -c Release --nologo -v quiet
	$(DB) start $(BENCH_DB_DIR)
	$(DB) apply $(BENCH_DB_DIR) $(BENCH_DATABASE)
	dotnet benchmarks/FsDirectory.Benchmarks/$(BENCH_BIN)/FsDirectory.Benchmarks.dll audit \
	  --connection "$$($(DB) connection-string $(BENCH_DB_DIR) $(BENCH_DATABASE))" --out .data/bench-audit.md

# The IP matcher and answer-building micro-benchmarks (BenchmarkDotNet, short in-process runs).
bench-micro:
	dotnet run --project benchmarks/FsDirectory.Benchmarks -c Release -- --filter '*'

# What each part of a 1M-rule snapshot keeps live (managed heap after full collections).
bench-memory:
	dotnet run --project benchmarks/FsDirectory.Benchmarks -c Release -- memory 1000000 100000

# Rule edits applied in process to a 1M-rule snapshot, with acl.conf built after each, under the service's GC.
bench-soak:
	DOTNET_gcServer=1 dotnet run --project benchmarks/FsDirectory.Benchmarks -c Release -- soak 300

# Sustained load with and without a mid-run database outage (BENCHMARKS.md, "Reliability load run").
load-run:
	scripts/load-run.sh
