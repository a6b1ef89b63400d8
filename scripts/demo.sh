#!/usr/bin/env bash
# README command 1: install, generate the synthetic national dataset if absent, run the
# whole pipeline, approve the candidate automatically (demo only) and publish it.
EXTRAS="" source "$(dirname "$0")/_env.sh"
reentry demo "$@"
