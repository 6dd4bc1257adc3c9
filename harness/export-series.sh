#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write the series as git am-able patches with a cover letter.
#   export-series.sh <out-dir>
# Commits are built from harness/series.conf with git plumbing on top of
# build/base.git, so no work tree is checked out. Fails when an overlay
# file or a patch is missing from series.conf, so the export cannot drift,
# and when a stage patch (the intermediate version of a file that several
# commits touch, harness/series-stages/) no longer applies, naming it.
set -euo pipefail
. "$(dirname "$0")/env.sh"
. "$top/harness/base.env"
out=$(realpath -m "$1")
conf=$top/harness/series.conf
"$top/harness/base-git.sh"

# Everything must be listed exactly once.
want=$(cd "$top" && { find drivers include Documentation tools kernel lib mm -type f 2>/dev/null; sed 's/^/patch /' patches/series; } | sed 's/^\([^p]\)/add \1/' | sort)
have=$(grep -E '^(add|patch) ' "$conf" | sort)
if [ "$want" != "$have" ]; then
	echo "export-series: harness/series.conf and the tree disagree:" >&2
	diff <(echo "$want") <(echo "$have") | grep '^[<>]' | sed 's/^</  not in series.conf:/; s/^>/  listed but missing:/' >&2
	exit 1
fi

for s in $(awk '$1 == "stage" {print $2}' "$conf"); do
	[ -f "$top/harness/series-stages/$s" ] ||
		{ echo "export-series: series.conf names stage $s, which harness/series-stages/ lacks" >&2; exit 1; }
done
# The staged files as every commit has them: $snap/N/<path> for commit N.
snap=$B/series-stages
"$top/harness/series-stage.sh" snapshots "$snap"
staged=$(cd "$snap/1" 2>/dev/null && find . -type f | sed 's|^\./||' | sort || true)
used=$(awk '$1 == "stage" {print $2}' "$conf" | sort)
have_st=$(cd "$top/harness/series-stages" 2>/dev/null && ls | sort || true)
if [ "$used" != "$have_st" ]; then
	echo "export-series: stages in harness/series-stages/ and series.conf disagree:" >&2
	diff <(echo "$have_st") <(echo "$used") >&2 || true
	exit 1
fi

export GIT_DIR=$B/base.git/.git
export GIT_INDEX_FILE=$B/series.index
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
GIT_AUTHOR_NAME=$(git -C "$top" config user.name || echo p2pmem)
GIT_AUTHOR_EMAIL=$(git -C "$top" config user.email || echo p2pmem@localhost)
GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE='2026-11-25T00:00:00Z' GIT_COMMITTER_DATE='2026-11-25T00:00:00Z'
git read-tree base
parent=$(git rev-parse base)
subject="" msg="" n=0 added="" stages=""

# The files the add lines have put in the index so far: the only ones a
# stage may touch (each git command reads the whole index of the base).
declare -A indexed=()
in_index() { [ -n "${indexed[$1]:-}" ]; }
commit() {
	[ -n "$subject" ] || return 0
	local tree f s files=()
	# A stage adds hunks to files that earlier commits added.
	for s in $stages; do
		for f in $(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$top/harness/series-stages/$s"); do
			if ! in_index "$f" || echo "$added" | grep -qx -- "$f"; then
				echo "export-series: stage $s of \"$subject\" touches $f, which no earlier commit adds" >&2
				exit 1
			fi
		done
	done
	# The staged files as this commit has them, in one update.
	for f in $staged; do
		in_index "$f" && files+=("$f")
	done
	if [ ${#files[@]} -gt 0 ]; then
		printf "$snap/$n/%s\n" "${files[@]}" | git hash-object -w --stdin-paths |
			paste - <(printf '%s\n' "${files[@]}") |
			sed 's/^/100644 /' | git update-index --index-info
	fi
	tree=$(git write-tree)
	msg=$(printf '%s' "$msg" | grep -v '^Signed-off-by:' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')
	parent=$(printf '%s\n\n%s\n\nSigned-off-by: %s <%s>\n' "$subject" "$msg" \
		 "$GIT_AUTHOR_NAME" "$GIT_AUTHOR_EMAIL" | git commit-tree "$tree" -p "$parent")
	subject="" msg="" added="" stages=""
}

while IFS= read -r line; do
	case "$line" in
	'#'*|'') ;;
	"subject "*) commit; subject=${line#subject }; n=$((n + 1)) ;;
	"stage "*) stages+=" ${line#stage }" ;;
	"body"*) msg+="${line#body }"$'\n'; [ "$line" = body ] && msg+=$'\n' ;;
	"add "*)
		f=${line#add }
		mode=100644
		[ -x "$top/$f" ] && mode=100755
		src=$top/$f
		[ -f "$snap/$n/$f" ] && src=$snap/$n/$f
		added+="$f"$'\n'
		indexed[$f]=1
		git update-index --add --cacheinfo "$mode,$(git hash-object -w "$src"),$f" ;;
	"patch "*)
		p=${line#patch }
		if ! git apply --cached "$top/patches/$p"; then
			echo "export-series: patches/$p does not apply to $(cat "$B/base-version")" >&2
			exit 1
		fi
		# Keep the patch's own description when the block has none.
		[ -n "$msg" ] || msg=$(sed -n '/^Subject:/,/^---$/p' "$top/patches/$p" | sed '1,2d;$d')$'\n' ;;
	esac
done < "$conf"
commit
git update-ref refs/heads/p2pmem "$parent"

rm -rf "$out"
mkdir -p "$out"
git format-patch -q --cover-letter --no-signature -o "$out" base..p2pmem
n=$(git rev-list --count base..p2pmem)
cover=$(ls "$out"/0000-*)
{
	sed -n '1,/\*\*\* SUBJECT HERE \*\*\*/p' "$cover" | sed 's/\*\*\* SUBJECT HERE \*\*\*/Peer-to-peer PCI memory (p2pmem)/'
	cat <<EOM

p2pmem turns PCI BAR memory (for example an NVMe controller memory
buffer) into ZONE_DEVICE pages that other PCI devices can DMA to directly,
and decides for every provider and client whether that is safe: below a
common switch at bus addresses, through a host bridge known to route
peer-to-peer traffic, or not at all, with the reason in words.

Base: $(cat "$B/base-version"), Debian's kernel source package.
It is an alternative to CONFIG_PCI_P2PDMA; the two exclude each other.

Outside drivers/pci/p2pmem/ the series touches: dma-direct (its
operations as a dma_map_ops table), the DMA API (a guard for p2pmem pages
that bypass the shim; DMA_ATTR_P2P_ROUTED, with which dma-direct and
dma-iommu take a list whose P2PDMA pages the caller has routed, in one
call), the scatterlist's dma_flags, <linux/pci-p2pdma.h> (implemented by
p2pmem, so nvme-pci and the block layer build unchanged), the NVMe-oF
target (its p2pmem attribute takes 'auto' and class names and shows the
provider in use, p2pmem_stat counts the fallback to host memory, TCP and
software RDMA devices stage data in p2pmem; two fixes of the base's
target: the namespace map's nodes leaked, and nvmet-tcp flushed nvmet_wq
from io_work), the block
layer (p2p and host pages never share a bio; queues that cannot take p2p
memory refuse it), mm/gup (FOLL_PCI_P2PDMA), nvme-pci (one quirk for
QEMU's controller), the DMA map benchmark (scatterlists of host, P2PDMA
or mixed pages, so that the standard tool measures either design) and
tools/p2pmem/.

The ideas are not new: the design follows Logan Gunthorpe's "Copy
Offload with Peer-to-Peer PCI Memory" RFC of 2017 and its discussion
with Stephen Bates, Christoph Hellwig, Jason Gunthorpe and Dan Williams
(a p2p-aware dma_map_ops injected per host bridge, after Dan Williams'
suggestion), and the upstream P2PDMA subsystem by Logan Gunthorpe and
its reviewers, which this series reimplements with its own code.

Tests: KUnit (drivers/pci/p2pmem/.kunitconfig, run on QEMU q35 with
tools/testing/kunit/qemu_configs/x86_64_p2pmem.py) and QEMU scenarios in
tools/testing/selftests/drivers/pci/p2pmem/, among them an NVMe-oF
target and host in two guests (fabrics-target.sh, fabrics-host.sh) over
TCP and soft RoCE; the CMB NVMe unplugged through its PCIe slot under
load (hotplug.sh, QMP device_del with pciehp); every allocation of
registration, allocation, mmap, mapping and NVMe-oF enable failed in turn
(faults.sh, with failslab, fail_page_alloc and the new fail_p2pmem); a
table of 104 bad inputs (bad-input.sh); and a KUnit stress suite.
EOM
	sed -n '/\*\*\* BLURB HERE \*\*\*/,$p' "$cover" | sed '1d'
} > "$cover.new"
mv "$cover.new" "$cover"
log "series: $n patches and a cover letter in $out"
