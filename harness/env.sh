# SPDX-License-Identifier: GPL-2.0
# Common settings sourced by the harness scripts.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$top/build
export CCACHE_DIR=$B/ccache
export CCACHE_BASEDIR=$top
export CCACHE_MAXSIZE=8G
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
export CCACHE_NOHASHDIR=1
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=p2pmem
export KBUILD_BUILD_HOST=p2pmem
JOBS=$(nproc)
KMAKE=(make -s -j"$JOBS" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc")

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
# console_tail LOG: when a guest did not reach P2PMEM-SCENARIO-END, print
# the end of its console, so that the cause shows in make check's output
# and not only in a log file CI does not keep.
console_tail() {
	grep -q '^P2PMEM-SCENARIO-END' "$1" 2> /dev/null && return 0
	echo "  last lines of $(basename "$1"):"
	tail -n 25 "$1" 2> /dev/null | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' |
		cut -c1-200 | sed 's/^/  | /'
}
