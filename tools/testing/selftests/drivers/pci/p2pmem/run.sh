#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run one p2pmem scenario inside the guest: run.sh NAME
here=$(dirname "$0")
name=$1
if [ ! -f "$here/$name.sh" ]; then
	echo "not ok 1 $name # no such scenario"
	exit 1
fi
. "$here/lib.sh"
. "$here/$name.sh"
finish
