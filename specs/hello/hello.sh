#!/bin/sh
# hello: prints a greeting.
name=${1:-world}
echo "Hello, $name!"
