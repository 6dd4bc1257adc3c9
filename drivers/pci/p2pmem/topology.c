// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem topology: how a client device reaches a provider's memory, why,
 * and the administrator's overrides.
 *
 * Two devices below a common switch talk at bus addresses unless a port on
 * the way redirects peer-to-peer requests upstream (ACS). Anything that has
 * to cross the host bridge works only if that host bridge is known to route
 * peer-to-peer traffic. When in doubt the answer is "not supported".
 *
 * A guest cannot see how its hypervisor routes peer traffic: QEMU's
 * emulated switches send every request to the root, and with the client's
 * DMA translated by a (virtual) IOMMU a bus address then reaches whatever
 * the IOMMU maps there, with a success status. Under a hypervisor, a switch
 * is therefore not trusted to route at bus addresses for a client whose DMA
 * an IOMMU translates; an administrator's "bus" override says otherwise.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/ctype.h>
#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/notifier.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/string_helpers.h>

#include "p2pmem.h"

/*
 * Host bridges known to route peer-to-peer TLPs between their root ports.
 * An entry names the function 00.0 of a root bus, a root port, or a root
 * complex integrated endpoint that sits on the root bus itself. The facts
 * are those upstream's P2PDMA allowlist has gathered; the guide says where
 * each came from. Entries of one platform share a name: two host bridges
 * route to each other only when both are the same platform and neither
 * entry says P2PMEM_HB_SAME_BRIDGE_ONLY.
 */
#define P2PMEM_HB_SNB	"Intel Xeon E5 (Sandy Bridge-EP)"
#define P2PMEM_HB_HSW	"Intel Xeon E5 v3 / E7 v3 (Haswell-EP)"
#define P2PMEM_HB_SKX	"Intel Xeon Scalable (Skylake-SP)"
#define P2PMEM_HB_ICX	"Intel Xeon Scalable 3rd gen (Ice Lake-SP)"
#define P2PMEM_HB_XEON	"Intel Xeon Scalable 4th gen and later"
#define P2PMEM_HB_GOOGLE "Google SoC"
/* PCI_VENDOR_ID_GOOGLE, which 6.1's pci_ids.h does not have yet. */
#define P2PMEM_VENDOR_GOOGLE	0x1ae0
#define P2PMEM_HB_NVIDIA "NVIDIA Vera Rubin"
#define P2PMEM_HB_ZX	"Zhaoxin KX-6000/KH-40000/KX-6000G/KX-7000/KH-50000"

const struct p2pmem_hb_id p2pmem_hb_table[] = {
	{ PCI_VENDOR_ID_INTEL, 0x3c00, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_SNB },
	{ PCI_VENDOR_ID_INTEL, 0x3c01, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_SNB },
	{ PCI_VENDOR_ID_INTEL, 0x2f00, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_HSW },
	{ PCI_VENDOR_ID_INTEL, 0x2f01, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_HSW },
	{ PCI_VENDOR_ID_INTEL, 0x2020, 0, P2PMEM_HB_SKX },
	/* Skylake-SP root ports A to D: the platform has no 00.0 there. */
	{ PCI_VENDOR_ID_INTEL, 0x2030, 0, P2PMEM_HB_SKX },
	{ PCI_VENDOR_ID_INTEL, 0x2031, 0, P2PMEM_HB_SKX },
	{ PCI_VENDOR_ID_INTEL, 0x2032, 0, P2PMEM_HB_SKX },
	{ PCI_VENDOR_ID_INTEL, 0x2033, 0, P2PMEM_HB_SKX },
	{ PCI_VENDOR_ID_INTEL, 0x09a2, 0, P2PMEM_HB_ICX },
	/*
	 * Sapphire Rapids and later: the integrated accelerators (DSA, IAA,
	 * QAT) on their own root buses, where they are peers of the devices
	 * below the other root ports.
	 */
	{ PCI_VENDOR_ID_INTEL, 0x0b25, 0, P2PMEM_HB_XEON },	/* DSA */
	{ PCI_VENDOR_ID_INTEL, 0x0cfe, 0, P2PMEM_HB_XEON },	/* IAA */
	{ PCI_VENDOR_ID_INTEL, 0x11fb, 0, P2PMEM_HB_XEON },	/* DSA */
	{ PCI_VENDOR_ID_INTEL, 0x1212, 0, P2PMEM_HB_XEON },	/* DSA */
	{ PCI_VENDOR_ID_INTEL, 0x1216, 0, P2PMEM_HB_XEON },	/* IAA */
	{ PCI_VENDOR_ID_INTEL, 0x4940, 0, P2PMEM_HB_XEON },	/* QAT */
	{ PCI_VENDOR_ID_INTEL, 0x4942, 0, P2PMEM_HB_XEON },	/* QAT */
	{ PCI_VENDOR_ID_INTEL, 0x4944, 0, P2PMEM_HB_XEON },	/* QAT */
	{ PCI_VENDOR_ID_INTEL, 0x4946, 0, P2PMEM_HB_XEON },	/* QAT */
	{ PCI_VENDOR_ID_INTEL, 0x4948, 0, P2PMEM_HB_XEON },	/* QAT */
	{ P2PMEM_VENDOR_GOOGLE, PCI_ANY_ID, 0, P2PMEM_HB_GOOGLE },
	{ PCI_VENDOR_ID_NVIDIA, 0x2f95, 0, P2PMEM_HB_NVIDIA },
	{ PCI_VENDOR_ID_NVIDIA, 0x2f96, 0, P2PMEM_HB_NVIDIA },
	{ PCI_VENDOR_ID_NVIDIA, 0x2f97, 0, P2PMEM_HB_NVIDIA },
	{ PCI_VENDOR_ID_NVIDIA, 0x2f98, 0, P2PMEM_HB_NVIDIA },
	{ PCI_VENDOR_ID_ZHAOXIN, 0x1003, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_ZX },
	{ PCI_VENDOR_ID_ZHAOXIN, 0x1005, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_ZX },
	{ PCI_VENDOR_ID_ZHAOXIN, 0x1006, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_ZX },
	{ PCI_VENDOR_ID_ZHAOXIN, 0x1007, P2PMEM_HB_SAME_BRIDGE_ONLY, P2PMEM_HB_ZX },
	{ PCI_VENDOR_ID_ZHAOXIN, 0x1008, 0, P2PMEM_HB_ZX },
	{ }
};

/*
 * AMD CPUs of the Zen family (17h) and later route peer-to-peer between
 * all their root ports and host bridges, whatever the IDs: decided by the
 * CPU, as upstream does.
 */
static const struct p2pmem_hb_id p2pmem_hb_amd_zen = {
	PCI_VENDOR_ID_AMD, PCI_ANY_ID, 0, "AMD CPU of family 17h (Zen) or later",
};

#define P2PMEM_AMD_ZEN_FAMILY	0x17

/* Changes whenever an entry of a verdict table is written or erased. */
static atomic_t p2pmem_topology_gen = ATOMIC_INIT(0);

/* The PCI bus notifier is in place: before it, no provider can exist. */
static bool p2pmem_topology_ready;

struct p2pmem_verdict_entry {
	struct rcu_head rcu;
	struct p2pmem_verdict v;
};

#define P2PMEM_MAX_OVERRIDES	16
#define P2PMEM_NAME_LEN		16	/* "0000:00:00.0", "pci0000:00" */
#define P2PMEM_MAX_PATH		32

enum p2pmem_forced {
	P2PMEM_FORCE_NONE,	/* no override */
	P2PMEM_FORCE_HOST,	/* through the host bridge */
	P2PMEM_FORCE_REFUSE,	/* not supported */
	P2PMEM_FORCE_BUS,	/* at bus addresses, below a common bridge */
};

/*
 * Set by the KUnit suites that test the structure of verdicts, so that
 * they read the same under a hypervisor with an IOMMU as on bare metal.
 */
bool p2pmem_assume_bare_metal;

struct p2pmem_override {
	char a[P2PMEM_NAME_LEN];
	char b[P2PMEM_NAME_LEN];	/* empty for a bridge override */
	enum p2pmem_forced force;
};

static DEFINE_SPINLOCK(p2pmem_override_lock);
static struct p2pmem_override p2pmem_overrides[P2PMEM_MAX_OVERRIDES];
static int p2pmem_nr_overrides;

/**
 * p2pmem_map_type_name() - short name of a map type, as shown to users
 * @type: the map type
 *
 * Return: "bus-address", "host-bridge" or "not-supported".
 */
const char *p2pmem_map_type_name(enum p2pmem_map_type type)
{
	switch (type) {
	case P2PMEM_MAP_BUS_ADDR:
		return "bus-address";
	case P2PMEM_MAP_THRU_HOST_BRIDGE:
		return "host-bridge";
	default:
		return "not-supported";
	}
}

/**
 * p2pmem_hb_lookup() - find a device in a table of known host bridges
 * @table: entries ending with one whose vendor is 0
 * @vendor: PCI vendor ID of the device
 * @device: its PCI device ID
 *
 * Return: the first entry for @vendor whose device is @device or
 * %PCI_ANY_ID, or %NULL.
 */
const struct p2pmem_hb_id *p2pmem_hb_lookup(const struct p2pmem_hb_id *table,
					    u16 vendor, u16 device)
{
	for (; table->vendor; table++)
		if (table->vendor == vendor &&
		    (table->device == device || table->device == PCI_ANY_ID))
			return table;
	return NULL;
}

/**
 * p2pmem_hb_match() - the rule of the known list a host bridge matches
 * @d: the host bridge's identifying IDs and the boot CPU
 *
 * The CPU rule first (AMD Zen and later), then the function 00.0 of the
 * root bus, then the device on the root bus on the way.
 *
 * Return: the rule, whose name the verdict gives, or %NULL when the host
 * bridge is not known to route peer-to-peer.
 */
const struct p2pmem_hb_id *p2pmem_hb_match(const struct p2pmem_hb_desc *d)
{
	const struct p2pmem_hb_id *ent = NULL;

	if (d->cpu_vendor == P2PMEM_CPU_AMD &&
	    d->cpu_family >= P2PMEM_AMD_ZEN_FAMILY)
		return &p2pmem_hb_amd_zen;
	if (d->fn0_vendor)
		ent = p2pmem_hb_lookup(p2pmem_hb_table, d->fn0_vendor,
				       d->fn0_device);
	if (!ent && d->top_vendor)
		ent = p2pmem_hb_lookup(p2pmem_hb_table, d->top_vendor,
				       d->top_device);
	return ent;
}

/* What identifies @hb, reached through @top, to p2pmem_hb_match(). */
static void p2pmem_hb_describe(struct pci_host_bridge *hb, struct pci_dev *top,
			       struct p2pmem_hb_desc *d)
{
	struct pci_dev *fn0;

	memset(d, 0, sizeof(*d));
	/* Function 0 of the root bus names the host bridge. */
	fn0 = pci_get_domain_bus_and_slot(pci_domain_nr(hb->bus),
					  hb->bus->number, PCI_DEVFN(0, 0));
	if (fn0) {
		d->fn0_vendor = fn0->vendor;
		d->fn0_device = fn0->device;
		pci_dev_put(fn0);
	}
	if (top) {
		d->top_vendor = top->vendor;
		d->top_device = top->device;
	}
	p2pmem_hb_desc_cpu(d);
}

/* "vvvv:dddd" of the host bridge's 00.0, for reasons. */
static void p2pmem_hb_id_str(const struct p2pmem_hb_desc *d, char *id,
			     size_t len)
{
	if (d->fn0_vendor)
		snprintf(id, len, "%04x:%04x", d->fn0_vendor, d->fn0_device);
	else
		strscpy(id, "no function at 00.0", len);
}

/* Does @s match @pat, where 'x' is a hex digit and '7' an octal one? */
static bool p2pmem_name_matches(const char *s, const char *pat)
{
	for (; *pat; s++, pat++) {
		if (*pat == 'x' ? !isxdigit(*s) :
		    *pat == '7' ? (*s < '0' || *s > '7') : *s != *pat)
			return false;
	}
	return !*s;
}

/*
 * Names exactly as the kernel prints them (after lower-casing), so that a
 * stored override cannot be accepted and then never match.
 */
static bool p2pmem_name_valid(const char *s)
{
	if (p2pmem_name_matches(s, "pcixxxx:xx"))
		return true;
	/* Device numbers go up to 0x1f. */
	return p2pmem_name_matches(s, "xxxx:xx:xx.7") && s[8] <= '1';
}

static int p2pmem_parse_one(char *ent, struct p2pmem_override *o)
{
	char *route, *b;

	route = strchr(ent, '=');
	if (!route)
		return -EINVAL;
	*route++ = '\0';
	if (!strcmp(route, "host"))
		o->force = P2PMEM_FORCE_HOST;
	else if (!strcmp(route, "none"))
		o->force = P2PMEM_FORCE_REFUSE;
	else if (!strcmp(route, "bus"))
		o->force = P2PMEM_FORCE_BUS;
	else
		return -EINVAL;

	string_lower(ent, ent);
	b = strchr(ent, ',');
	if (b)
		*b++ = '\0';
	if (strlen(ent) >= P2PMEM_NAME_LEN || !p2pmem_name_valid(ent))
		return -EINVAL;
	strscpy(o->a, ent, sizeof(o->a));
	o->b[0] = '\0';
	if (b) {
		if (strlen(b) >= P2PMEM_NAME_LEN || !p2pmem_name_valid(b) ||
		    !strncmp(b, "pci", 3) || !strncmp(ent, "pci", 3))
			return -EINVAL;
		strscpy(o->b, b, sizeof(o->b));
	}
	/* Bus addresses never cross a host bridge. */
	if (o->force == P2PMEM_FORCE_BUS && !strncmp(ent, "pci", 3))
		return -EINVAL;
	return 0;
}

/**
 * p2pmem_override_set() - replace the administrator's overrides
 * @val: entries separated by ';': "BRIDGE=ROUTE" or "DEV,DEV=ROUTE", where
 *	BRIDGE is a PCI bridge ("0000:00:1c.0") or a host bridge
 *	("pci0000:00"), DEV a PCI device and ROUTE "host", "none" or "bus"
 *	(not for a host bridge); an
 *	empty string removes every override
 *
 * Parses everything first: on any error nothing changes. Uses no dynamic
 * memory, so it also works for the kernel parameter, early in boot.
 *
 * Return: 0, or -EINVAL with the offending entry logged.
 */
int p2pmem_override_set(const char *val)
{
	struct p2pmem_override parsed[P2PMEM_MAX_OVERRIDES];
	char buf[P2PMEM_MAX_OVERRIDES * 2 * (P2PMEM_NAME_LEN + 4)];
	unsigned long flags;
	char *cur, *ent;
	int n = 0;

	if (strscpy(buf, val, sizeof(buf)) < 0) {
		pr_err("override: too long\n");
		return -EINVAL;
	}
	cur = strim(buf);
	while ((ent = strsep(&cur, ";")) != NULL) {
		ent = strim(ent);
		if (!*ent)
			continue;
		if (n == P2PMEM_MAX_OVERRIDES) {
			pr_err("override: more than %d entries\n",
			       P2PMEM_MAX_OVERRIDES);
			return -EINVAL;
		}
		memset(&parsed[n], 0, sizeof(parsed[n]));
		if (p2pmem_parse_one(ent, &parsed[n])) {
			pr_err("override: bad entry '%s': want BRIDGE=host|none|bus or DEV,DEV=host|none|bus (no bus for a host bridge)\n",
			       ent);
			return -EINVAL;
		}
		n++;
	}

	spin_lock_irqsave(&p2pmem_override_lock, flags);
	memcpy(p2pmem_overrides, parsed, n * sizeof(parsed[0]));
	p2pmem_nr_overrides = n;
	spin_unlock_irqrestore(&p2pmem_override_lock, flags);
	/* At boot, before any provider, there is nothing to recompute. */
	if (READ_ONCE(p2pmem_topology_ready)) {
		mutex_lock(&p2pmem_lock);
		p2pmem_verdicts_refresh(NULL);
		mutex_unlock(&p2pmem_lock);
	}
	return 0;
}

/**
 * p2pmem_override_show() - print the overrides in the form they are set
 * @buf: output
 * @len: size of @buf
 *
 * Return: number of characters written, excluding the final NUL.
 */
int p2pmem_override_show(char *buf, size_t len)
{
	struct p2pmem_override *o;
	unsigned long flags;
	int i, n = 0;

	spin_lock_irqsave(&p2pmem_override_lock, flags);
	for (i = 0; i < p2pmem_nr_overrides; i++) {
		o = &p2pmem_overrides[i];
		n += scnprintf(buf + n, len - n, "%s%s%s%s=%s", i ? ";" : "",
			       o->a, o->b[0] ? "," : "", o->b,
			       o->force == P2PMEM_FORCE_HOST ? "host" :
			       o->force == P2PMEM_FORCE_BUS ? "bus" : "none");
	}
	spin_unlock_irqrestore(&p2pmem_override_lock, flags);
	n += scnprintf(buf + n, len - n, "\n");
	return n;
}

static int p2pmem_param_set(const char *val, const struct kernel_param *kp)
{
	return p2pmem_override_set(val);
}

static int p2pmem_param_get(char *buffer, const struct kernel_param *kp)
{
	return p2pmem_override_show(buffer, PAGE_SIZE);
}

static const struct kernel_param_ops p2pmem_override_ops = {
	.set = p2pmem_param_set,
	.get = p2pmem_param_get,
};
module_param_cb(override, &p2pmem_override_ops, NULL, 0644);
MODULE_PARM_DESC(override,
		 "Force routes: BRIDGE=host|none;DEV,DEV=host|none (see Documentation/driver-api/pci/p2pmem.rst)");

/* The override of a pair, in either order, or of one bridge. */
static enum p2pmem_forced p2pmem_forced_for(const char *a, const char *b)
{
	enum p2pmem_forced f = P2PMEM_FORCE_NONE;
	struct p2pmem_override *o;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&p2pmem_override_lock, flags);
	for (i = 0; i < p2pmem_nr_overrides; i++) {
		o = &p2pmem_overrides[i];
		if (b ? ((!strcmp(o->a, a) && !strcmp(o->b, b)) ||
			 (!strcmp(o->a, b) && !strcmp(o->b, a))) :
			(!o->b[0] && !strcmp(o->a, a))) {
			f = o->force;
			break;
		}
	}
	spin_unlock_irqrestore(&p2pmem_override_lock, flags);
	return f;
}

/* Which of two forced routes wins: the safer one. */
static int p2pmem_force_rank(enum p2pmem_forced f)
{
	switch (f) {
	case P2PMEM_FORCE_REFUSE:
		return 3;
	case P2PMEM_FORCE_HOST:
		return 2;
	case P2PMEM_FORCE_BUS:
		return 1;
	default:
		return 0;
	}
}

static const char *p2pmem_force_name(enum p2pmem_forced f)
{
	switch (f) {
	case P2PMEM_FORCE_HOST:
		return "route through the host bridge";
	case P2PMEM_FORCE_BUS:
		return "route at bus addresses";
	default:
		return "not supported";
	}
}

/*
 * Under a hypervisor, is @client's DMA translated by an IOMMU? Then no
 * emulated switch is trusted to route its requests at bus addresses.
 */
static bool p2pmem_switch_untrusted(struct pci_dev *client)
{
	struct iommu_domain *dom;

	if (READ_ONCE(p2pmem_assume_bare_metal) || !p2pmem_in_vm())
		return false;
	dom = iommu_get_domain_for_dev(&client->dev);
	return dom && dom->type != IOMMU_DOMAIN_IDENTITY;
}

/* A path: a device followed by its upstream bridges, nearest first. */
struct p2pmem_path {
	struct pci_dev *dev[P2PMEM_MAX_PATH];
	int len;
};

static void p2pmem_path_of(struct pci_dev *pdev, struct p2pmem_path *path)
{
	path->len = 0;
	for (; pdev && path->len < P2PMEM_MAX_PATH;
	     pdev = pci_upstream_bridge(pdev))
		path->dev[path->len++] = pdev;
}

static int p2pmem_path_index(struct p2pmem_path *path, struct pci_dev *pdev)
{
	int i;

	for (i = 0; i < path->len; i++)
		if (path->dev[i] == pdev)
			return i;
	return -1;
}

/* ACS redirect bits set on a port, as words for the reason; NULL if none. */
static const char *p2pmem_acs_redirect(struct pci_dev *port)
{
	u16 ctrl;
	int pos;

	pos = pci_find_ext_capability(port, PCI_EXT_CAP_ID_ACS);
	if (!pos)
		return NULL;
	pci_read_config_word(port, pos + PCI_ACS_CTRL, &ctrl);
	if (ctrl & PCI_ACS_RR)
		return "ACS P2P Request Redirect";
	if (ctrl & PCI_ACS_CR)
		return "ACS P2P Completion Redirect";
	if (ctrl & PCI_ACS_EC)
		return "ACS P2P Egress Control";
	return NULL;
}

/*
 * Bridge overrides on the first @n nodes (skipping index 0, the endpoint)
 * of a path. A refusal anywhere wins over a forced host-bridge route.
 */
static enum p2pmem_forced p2pmem_path_forced(struct p2pmem_path *path,
					     int n, struct pci_dev **which)
{
	enum p2pmem_forced f, res = P2PMEM_FORCE_NONE;
	int i;

	for (i = 1; i < n; i++) {
		f = p2pmem_forced_for(pci_name(path->dev[i]), NULL);
		if (p2pmem_force_rank(f) <= p2pmem_force_rank(res))
			continue;
		res = f;
		*which = path->dev[i];
	}
	return res;
}

/* Bridge overrides on both paths: the safest route forced on either wins. */
static enum p2pmem_forced p2pmem_paths_forced(struct p2pmem_path *pp, int np,
					      struct p2pmem_path *pc, int nc,
					      struct pci_dev **which)
{
	struct pci_dev *wc = NULL;
	enum p2pmem_forced f, fc;

	f = p2pmem_path_forced(pp, np, which);
	fc = p2pmem_path_forced(pc, nc, &wc);
	if (p2pmem_force_rank(fc) > p2pmem_force_rank(f)) {
		f = fc;
		*which = wc;
	}
	return f;
}

static __printf(4, 5)
void p2pmem_set(struct p2pmem_verdict *v, enum p2pmem_map_type type,
		int distance, const char *fmt, ...)
{
	va_list args;

	v->type = type;
	v->distance = type == P2PMEM_MAP_NOT_SUPPORTED ? -1 : distance;
	va_start(args, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, args);
	va_end(args);
}

/**
 * p2pmem_hb_verdict() - the verdict of a route through one host bridge
 * @d: the host bridge's IDs and the boot CPU
 * @hb_name: its name, for the reason
 * @hops: links the route traverses
 * @why: why the route has to go through the host bridge
 * @v: result: type, distance and reason set, %P2PMEM_VF_WRITES_ONLY added
 *	when the host bridge routes posted writes only
 *
 * The reason names the rule of the known list that matched.
 */
void p2pmem_hb_verdict(const struct p2pmem_hb_desc *d, const char *hb_name,
		       int hops, const char *why, struct p2pmem_verdict *v)
{
	const struct p2pmem_hb_id *ent = p2pmem_hb_match(d);
	char id[24];

	p2pmem_hb_id_str(d, id, sizeof(id));
	if (!ent) {
		p2pmem_set(v, P2PMEM_MAP_NOT_SUPPORTED, 0,
			   "%s; host bridge %s (%s) is not known to route peer-to-peer",
			   why, hb_name, id);
		return;
	}
	if (ent->flags & P2PMEM_HB_WRITES_ONLY)
		v->flags |= P2PMEM_VF_WRITES_ONLY;
	p2pmem_set(v, P2PMEM_MAP_THRU_HOST_BRIDGE,
		   hops + P2PMEM_HOST_BRIDGE_PENALTY,
		   "%s; host bridge %s (%s) is known to route peer-to-peer%s: %s",
		   why, hb_name, id,
		   ent->flags & P2PMEM_HB_WRITES_ONLY ? " (writes only)" : "",
		   ent->name);
}

/* Both devices below one host bridge but no common PCI bridge. */
static void p2pmem_via_host_bridge(struct pci_host_bridge *hb,
				   struct pci_dev *top, int hops,
				   const char *why, struct p2pmem_verdict *v)
{
	struct p2pmem_hb_desc d;
	enum p2pmem_forced f;

	f = p2pmem_forced_for(dev_name(&hb->dev), NULL);
	if (f == P2PMEM_FORCE_REFUSE) {
		v->flags |= P2PMEM_VF_OVERRIDE;
		p2pmem_set(v, P2PMEM_MAP_NOT_SUPPORTED, 0,
			   "%s; host bridge %s forced to not supported by override",
			   why, dev_name(&hb->dev));
		return;
	}
	if (f == P2PMEM_FORCE_HOST) {
		v->flags |= P2PMEM_VF_OVERRIDE;
		p2pmem_set(v, P2PMEM_MAP_THRU_HOST_BRIDGE,
			   hops + P2PMEM_HOST_BRIDGE_PENALTY,
			   "%s; host bridge %s forced to route by override",
			   why, dev_name(&hb->dev));
		return;
	}
	p2pmem_hb_describe(hb, top, &d);
	p2pmem_hb_verdict(&d, dev_name(&hb->dev), hops, why, v);
}

static void p2pmem_cross_bridges(struct pci_host_bridge *hp,
				 struct pci_host_bridge *hc,
				 struct p2pmem_path *pp, struct p2pmem_path *pc,
				 struct p2pmem_verdict *v)
{
	const struct p2pmem_hb_id *ep, *ec;
	struct p2pmem_hb_desc dp, dc;
	enum p2pmem_forced fp, fc;
	char idp[24], idc[24];

	fp = p2pmem_forced_for(dev_name(&hp->dev), NULL);
	fc = p2pmem_forced_for(dev_name(&hc->dev), NULL);
	if (fp == P2PMEM_FORCE_REFUSE || fc == P2PMEM_FORCE_REFUSE) {
		v->flags |= P2PMEM_VF_OVERRIDE;
		p2pmem_set(v, P2PMEM_MAP_NOT_SUPPORTED, 0,
			   "provider below %s, client below %s; forced to not supported by override",
			   dev_name(&hp->dev), dev_name(&hc->dev));
		return;
	}
	if (fp == P2PMEM_FORCE_HOST && fc == P2PMEM_FORCE_HOST) {
		v->flags |= P2PMEM_VF_OVERRIDE;
		p2pmem_set(v, P2PMEM_MAP_THRU_HOST_BRIDGE,
			   pp->len + pc->len + 2 * P2PMEM_HOST_BRIDGE_PENALTY,
			   "provider below %s, client below %s; both forced to route by override",
			   dev_name(&hp->dev), dev_name(&hc->dev));
		return;
	}
	p2pmem_hb_describe(hp, pp->dev[pp->len - 1], &dp);
	p2pmem_hb_describe(hc, pc->dev[pc->len - 1], &dc);
	p2pmem_hb_id_str(&dp, idp, sizeof(idp));
	p2pmem_hb_id_str(&dc, idc, sizeof(idc));
	ep = p2pmem_hb_match(&dp);
	ec = p2pmem_hb_match(&dc);
	if (!ep || !ec || strcmp(ep->name, ec->name) ||
	    ((ep->flags | ec->flags) & P2PMEM_HB_SAME_BRIDGE_ONLY)) {
		p2pmem_set(v, P2PMEM_MAP_NOT_SUPPORTED, 0,
			   "provider below host bridge %s (%s), client below %s (%s): not known to route between host bridges",
			   dev_name(&hp->dev), idp, dev_name(&hc->dev), idc);
		return;
	}
	if ((ep->flags | ec->flags) & P2PMEM_HB_WRITES_ONLY)
		v->flags |= P2PMEM_VF_WRITES_ONLY;
	p2pmem_set(v, P2PMEM_MAP_THRU_HOST_BRIDGE,
		   pp->len + pc->len + 2 * P2PMEM_HOST_BRIDGE_PENALTY,
		   "provider below host bridge %s, client below %s; both known to route between host bridges: %s",
		   dev_name(&hp->dev), dev_name(&hc->dev), ep->name);
}

/**
 * p2pmem_verdict_compute() - work out how a client reaches a provider
 * @provider: device whose memory is accessed
 * @client: device that issues the DMA
 * @v: result
 *
 * Not cached; see p2pmem_verdict_get().
 */
void p2pmem_verdict_compute(struct pci_dev *provider, struct pci_dev *client,
			    struct p2pmem_verdict *v)
{
	struct pci_host_bridge *hp, *hc;
	struct p2pmem_path pp, pc;
	struct pci_dev *common = NULL, *which = NULL;
	enum p2pmem_forced f;
	const char *acs = NULL;
	int ip = -1, ic, i;

	memset(v, 0, sizeof(*v));
	if (provider == client) {
		p2pmem_set(v, P2PMEM_MAP_BUS_ADDR, 0, "same PCI function");
		return;
	}

	p2pmem_path_of(provider, &pp);
	p2pmem_path_of(client, &pc);

	hp = pci_find_host_bridge(provider->bus);
	hc = pci_find_host_bridge(client->bus);
	f = p2pmem_forced_for(pci_name(provider), pci_name(client));
	if (f == P2PMEM_FORCE_BUS && hp != hc) {
		v->flags |= P2PMEM_VF_OVERRIDE;
		p2pmem_set(v, P2PMEM_MAP_NOT_SUPPORTED, 0,
			   "pair forced to route at bus addresses by override, but below different host bridges");
		return;
	}
	if (f != P2PMEM_FORCE_NONE) {
		v->flags |= P2PMEM_VF_OVERRIDE;
		p2pmem_set(v, f == P2PMEM_FORCE_HOST ?
			   P2PMEM_MAP_THRU_HOST_BRIDGE :
			   f == P2PMEM_FORCE_BUS ? P2PMEM_MAP_BUS_ADDR :
			   P2PMEM_MAP_NOT_SUPPORTED,
			   f == P2PMEM_FORCE_BUS ? pp.len + pc.len :
			   P2PMEM_HOST_BRIDGE_PENALTY,
			   "pair forced to %s by override", p2pmem_force_name(f));
		return;
	}

	for (ic = 0; ic < pc.len; ic++) {
		ip = p2pmem_path_index(&pp, pc.dev[ic]);
		if (ip >= 0) {
			common = pc.dev[ic];
			break;
		}
	}

	if (!common && hp != hc) {
		f = p2pmem_paths_forced(&pp, pp.len, &pc, pc.len, &which);
		if (f == P2PMEM_FORCE_REFUSE) {
			v->flags |= P2PMEM_VF_OVERRIDE;
			p2pmem_set(v, P2PMEM_MAP_NOT_SUPPORTED, 0,
				   "bridge %s forced to not supported by override",
				   pci_name(which));
			return;
		}
		p2pmem_cross_bridges(hp, hc, &pp, &pc, v);
		return;
	}

	if (!common) {
		/* Distinct root ports of one host bridge: no bus route. */
		f = p2pmem_paths_forced(&pp, pp.len, &pc, pc.len, &which);
		if (f == P2PMEM_FORCE_HOST || f == P2PMEM_FORCE_REFUSE) {
			v->flags |= P2PMEM_VF_OVERRIDE;
			p2pmem_set(v, f == P2PMEM_FORCE_HOST ?
				   P2PMEM_MAP_THRU_HOST_BRIDGE :
				   P2PMEM_MAP_NOT_SUPPORTED,
				   pp.len + pc.len + P2PMEM_HOST_BRIDGE_PENALTY,
				   "no common switch; bridge %s forced to %s by override",
				   pci_name(which), f == P2PMEM_FORCE_HOST ?
				   "route through the host bridge" : "not supported");
			return;
		}
		p2pmem_via_host_bridge(hp, pp.dev[pp.len - 1], pp.len + pc.len,
				       "no common switch below the host bridge", v);
		return;
	}

	/* Overrides on the bridges of the path, the common one included. */
	f = p2pmem_paths_forced(&pp, ip + 1, &pc, ic + 1, &which);
	if (f != P2PMEM_FORCE_NONE) {
		v->flags |= P2PMEM_VF_OVERRIDE;
		p2pmem_set(v, f == P2PMEM_FORCE_HOST ?
			   P2PMEM_MAP_THRU_HOST_BRIDGE :
			   f == P2PMEM_FORCE_BUS ? P2PMEM_MAP_BUS_ADDR :
			   P2PMEM_MAP_NOT_SUPPORTED,
			   ip + ic + (f == P2PMEM_FORCE_BUS ? 0 :
				      P2PMEM_HOST_BRIDGE_PENALTY),
			   "below common bridge %s; bridge %s forced to %s by override",
			   pci_name(common), pci_name(which),
			   p2pmem_force_name(f));
		return;
	}

	/*
	 * Ports between the devices and the common bridge, and the common
	 * bridge itself when it is a port that turns traffic around.
	 */
	if (pci_is_pcie(common) &&
	    (pci_pcie_type(common) == PCI_EXP_TYPE_ROOT_PORT ||
	     pci_pcie_type(common) == PCI_EXP_TYPE_DOWNSTREAM) &&
	    common != provider && common != client) {
		acs = p2pmem_acs_redirect(common);
		which = common;
	}
	for (i = 1; i < ip && !acs; i++) {
		acs = p2pmem_acs_redirect(pp.dev[i]);
		which = pp.dev[i];
	}
	for (i = 1; i < ic && !acs; i++) {
		acs = p2pmem_acs_redirect(pc.dev[i]);
		which = pc.dev[i];
	}
	if (acs) {
		char why[80];

		snprintf(why, sizeof(why), "%s enabled on %s", acs,
			 pci_name(which));
		p2pmem_via_host_bridge(hp, pp.dev[pp.len - 1], ip + ic, why, v);
		return;
	}
	if (p2pmem_switch_untrusted(client)) {
		char why[80];

		snprintf(why, sizeof(why),
			 "under a hypervisor, with an IOMMU translating %s",
			 pci_name(client));
		p2pmem_via_host_bridge(hp, pp.dev[pp.len - 1], ip + ic, why, v);
		return;
	}

	p2pmem_set(v, P2PMEM_MAP_BUS_ADDR, ip + ic,
		   "below common bridge %s, no ACS redirect on the path",
		   pci_name(common));
}

/*
 * The verdict tables: every provider has the verdict of every PCI device,
 * computed in process context with p2pmem_lock held when the provider is
 * registered, when a device is added or bound to a driver, when one goes
 * away and when the overrides change. The DMA path only looks them up,
 * under RCU. Entries are replaced, never invalidated, so a lookup always
 * finds the old verdict or the new one; and nothing is stored into the
 * table of a provider that p2pmem_remove() has taken out of
 * p2pmem_providers (also under p2pmem_lock) before freeing the table.
 */
static void p2pmem_verdict_store(struct p2pmem_provider *prov,
				 struct pci_dev *client)
{
	unsigned long key = p2pmem_dev_key(client);
	struct p2pmem_verdict_entry *e, *old;

	lockdep_assert_held(&p2pmem_lock);
	e = kmalloc(sizeof(*e), GFP_KERNEL);
	if (e) {
		p2pmem_verdict_compute(prov->pdev, client, &e->v);
		old = xa_store_irq(&prov->verdicts, key, e, GFP_KERNEL);
		if (xa_is_err(old)) {
			kfree(e);
			e = NULL;
		}
	}
	/* Fail closed: without the new verdict, none (the DMA path refuses). */
	if (!e)
		old = xa_erase_irq(&prov->verdicts, key);
	if (old && !xa_is_err(old))
		kfree_rcu(old, rcu);
	atomic_inc(&p2pmem_topology_gen);
}

/* The verdict of every PCI device but @gone for @prov; @gone's is erased. */
static void p2pmem_verdicts_fill(struct p2pmem_provider *prov,
				 struct pci_dev *gone)
{
	struct p2pmem_verdict_entry *e;
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev)
		if (pdev != gone)
			p2pmem_verdict_store(prov, pdev);
	if (gone) {
		e = xa_erase_irq(&prov->verdicts, p2pmem_dev_key(gone));
		if (e)
			kfree_rcu(e, rcu);
		atomic_inc(&p2pmem_topology_gen);
	}
}

/**
 * p2pmem_verdicts_provider_added() - fill a new provider's verdict table
 * @prov: the provider, not yet visible to lookups
 *
 * Caller holds p2pmem_lock. A verdict that cannot be stored (no memory) is
 * missing, and the DMA path refuses that client.
 */
void p2pmem_verdicts_provider_added(struct p2pmem_provider *prov)
{
	lockdep_assert_held(&p2pmem_lock);
	p2pmem_verdicts_fill(prov, NULL);
}

/**
 * p2pmem_verdicts_refresh() - recompute every provider's verdict table
 * @gone: a device going away, whose verdicts are erased, or %NULL
 *
 * For changes that may alter any verdict: the overrides, a device going
 * away, ACS settings changed behind the kernel's back (nothing notifies
 * those; rewriting the override parameter gets here). Caller holds
 * p2pmem_lock.
 */
void p2pmem_verdicts_refresh(struct pci_dev *gone)
{
	struct p2pmem_provider *prov;
	unsigned long idx;

	lockdep_assert_held(&p2pmem_lock);
	xa_for_each(&p2pmem_providers, idx, prov)
		if (!READ_ONCE(prov->dying))
			p2pmem_verdicts_fill(prov, gone);
}

/* A device was added or is being bound: its verdict for every provider. */
static void p2pmem_verdicts_client(struct pci_dev *client)
{
	struct p2pmem_provider *prov;
	unsigned long idx;

	lockdep_assert_held(&p2pmem_lock);
	xa_for_each(&p2pmem_providers, idx, prov)
		if (!READ_ONCE(prov->dying))
			p2pmem_verdict_store(prov, client);
}

/**
 * p2pmem_verdict_lookup() - a client's verdict from a provider's table
 * @prov: the provider, kept alive by the caller
 * @client: the client
 * @v: result, when found
 *
 * Any context.
 *
 * Return: whether the table has a verdict for @client.
 */
bool p2pmem_verdict_lookup(struct p2pmem_provider *prov,
			   struct pci_dev *client, struct p2pmem_verdict *v)
{
	struct p2pmem_verdict_entry *e;

	rcu_read_lock();
	e = xa_load(&prov->verdicts, p2pmem_dev_key(client));
	if (e)
		*v = e->v;
	rcu_read_unlock();
	return e;
}

/**
 * p2pmem_verdict_get() - a client's verdict for a provider
 * @prov: the provider
 * @client: the client
 * @v: result
 *
 * From the provider's table, or computed (and not stored) for a client
 * the table does not know. Process context.
 */
void p2pmem_verdict_get(struct p2pmem_provider *prov, struct pci_dev *client,
			struct p2pmem_verdict *v)
{
	if (!p2pmem_verdict_lookup(prov, client, v))
		p2pmem_verdict_compute(prov->pdev, client, v);
}

/**
 * p2pmem_route() - the route of a client to a provider, for the DMA path
 * @prov: the provider, kept alive by the caller
 * @client: the client
 *
 * Only a lookup in the provider's verdict table: no PCI bus walk, no
 * config space access, no allocation, so any context will do. A client
 * the table does not know is refused: counted in the provider's
 * ``unknown`` statistic and logged the first time.
 *
 * Return: the map type.
 */
enum p2pmem_map_type p2pmem_route(struct p2pmem_provider *prov,
				  struct pci_dev *client)
{
	struct p2pmem_verdict_entry *e;
	enum p2pmem_map_type type = P2PMEM_MAP_NOT_SUPPORTED;

	rcu_read_lock();
	e = xa_load(&prov->verdicts, p2pmem_dev_key(client));
	if (likely(e))
		type = e->v.type;
	rcu_read_unlock();
	if (unlikely(!e) &&
	    atomic_long_inc_return(&prov->stats.unknown) == 1)
		pci_warn(prov->pdev, "p2pmem: no verdict for %s: its DMA mappings of this memory are refused\n",
			 pci_name(client));
	return type;
}

/**
 * p2pmem_topology_generation() - count of changes to the verdict tables
 *
 * Return: a number that changes whenever a verdict is stored or erased.
 */
int p2pmem_topology_generation(void)
{
	return atomic_read(&p2pmem_topology_gen);
}

/**
 * p2pmem_verdicts_drop() - free a provider's verdict table
 * @prov: the provider, no longer reachable by lookups
 */
void p2pmem_verdicts_drop(struct p2pmem_provider *prov)
{
	struct p2pmem_verdict_entry *e;
	unsigned long idx;

	xa_for_each(&prov->verdicts, idx, e) {
		xa_erase_irq(&prov->verdicts, idx);
		kfree_rcu(e, rcu);
	}
	xa_destroy(&prov->verdicts);
}

/**
 * p2pmem_client_pci() - the PCI device a client stands for
 * @dev: the client
 *
 * Return: @dev itself or its nearest PCI parent, or %NULL.
 */
struct pci_dev *p2pmem_client_pci(struct device *dev)
{
	for (; dev; dev = dev->parent)
		if (dev_is_pci(dev))
			return to_pci_dev(dev);
	return NULL;
}

static int p2pmem_sum_distance(struct p2pmem_provider *prov,
			       struct pci_dev *provider,
			       struct device **clients, int num_clients,
			       bool verbose)
{
	struct p2pmem_verdict v;
	struct pci_dev *client;
	int i, sum = 0, ret = 0;

	for (i = 0; i < num_clients; i++) {
		client = clients[i] ? p2pmem_client_pci(clients[i]) : NULL;
		if (!client) {
			if (verbose)
				pci_warn(provider, "p2pmem: client %s is not a PCI device\n",
					 clients[i] ? dev_name(clients[i]) : "(null)");
			ret = -EREMOTEIO;
			continue;
		}
		if (prov)
			p2pmem_verdict_get(prov, client, &v);
		else
			p2pmem_verdict_compute(provider, client, &v);
		if (v.type == P2PMEM_MAP_NOT_SUPPORTED) {
			if (verbose)
				pci_warn(provider, "p2pmem: not usable by %s: %s\n",
					 pci_name(client), v.reason);
			ret = -EREMOTEIO;
			continue;
		}
		sum += v.distance;
	}
	return ret ? ret : sum;
}

/**
 * p2pmem_distance() - how far a provider is from a set of clients
 * @provider: the provider (any PCI device, registered or not)
 * @clients: the devices that will DMA to or from the memory
 * @num_clients: number of entries in @clients
 * @verbose: log why a client cannot use the provider
 *
 * Return: the sum of the distances (links traversed, plus 256 for each
 * crossing of a host bridge), -EREMOTEIO when some client cannot reach the
 * provider, or -EINVAL for bad arguments.
 */
int p2pmem_distance(struct pci_dev *provider, struct device **clients,
		    int num_clients, bool verbose)
{
	struct p2pmem_provider *prov;
	int ret;

	if (!provider || !clients || num_clients <= 0)
		return -EINVAL;
	mutex_lock(&p2pmem_lock);
	prov = p2pmem_provider_of(provider);
	ret = p2pmem_sum_distance(prov, provider, clients, num_clients,
				  verbose);
	mutex_unlock(&p2pmem_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmem_distance);

/**
 * p2pmem_map_type() - the route a client takes to a provider
 * @provider: the provider
 * @client: the client (a PCI device or a device below one)
 *
 * Return: the map type; %P2PMEM_MAP_NOT_SUPPORTED for bad arguments.
 */
enum p2pmem_map_type p2pmem_map_type(struct pci_dev *provider,
				     struct device *client)
{
	struct p2pmem_provider *prov;
	struct p2pmem_verdict v;
	struct pci_dev *c;

	c = client ? p2pmem_client_pci(client) : NULL;
	if (!provider || !c)
		return P2PMEM_MAP_NOT_SUPPORTED;
	mutex_lock(&p2pmem_lock);
	prov = p2pmem_provider_of(provider);
	if (prov)
		p2pmem_verdict_get(prov, c, &v);
	else
		p2pmem_verdict_compute(provider, c, &v);
	mutex_unlock(&p2pmem_lock);
	return v.type;
}
EXPORT_SYMBOL_GPL(p2pmem_map_type);

/**
 * p2pmem_find() - the nearest published provider usable by every client
 * @clients: the devices that will DMA to or from the memory
 * @num_clients: number of entries in @clients
 *
 * Only providers every client can reach are considered; the one with the
 * smallest summed distance wins. Ties go to the provider with the lowest
 * PCI domain, bus, device and function, so the answer is deterministic.
 *
 * Return: the provider with a reference held (drop it with p2pmem_put()),
 * or %NULL when there is none or the arguments are bad.
 */
struct pci_dev *p2pmem_find(struct device **clients, int num_clients)
{
	struct p2pmem_provider *prov;
	struct pci_dev *best = NULL;
	int d, best_d = INT_MAX;
	unsigned long idx;

	if (!clients || num_clients <= 0)
		return NULL;
	mutex_lock(&p2pmem_lock);
	/* Keys sort like PCI names, so the first of equals wins. */
	xa_for_each(&p2pmem_providers, idx, prov) {
		if (!READ_ONCE(prov->published) || READ_ONCE(prov->dying))
			continue;
		d = p2pmem_sum_distance(prov, prov->pdev, clients,
					num_clients, false);
		if (d >= 0 && d < best_d) {
			best_d = d;
			best = prov->pdev;
		}
	}
	pci_dev_get(best);
	mutex_unlock(&p2pmem_lock);
	return best;
}
EXPORT_SYMBOL_GPL(p2pmem_find);

/**
 * p2pmem_explain() - log why no published provider suits a set of clients
 * @clients: the devices that will DMA to or from the memory
 * @num_clients: number of entries in @clients
 *
 * For a user of p2pmem_find() that found nothing and must tell the
 * administrator why: logs, for each published provider, the verdict of
 * every client that cannot reach it, or that no provider is published.
 *
 * Context: process context, may sleep.
 * Return: the number of published providers looked at, or -EINVAL for bad
 * arguments.
 */
int p2pmem_explain(struct device **clients, int num_clients)
{
	struct p2pmem_provider *prov;
	unsigned long idx;
	int n = 0;

	if (!clients || num_clients <= 0)
		return -EINVAL;
	mutex_lock(&p2pmem_lock);
	xa_for_each(&p2pmem_providers, idx, prov) {
		if (!READ_ONCE(prov->published) || READ_ONCE(prov->dying))
			continue;
		p2pmem_sum_distance(prov, prov->pdev, clients, num_clients,
				    true);
		n++;
	}
	mutex_unlock(&p2pmem_lock);
	if (!n)
		pr_warn("no provider has published peer-to-peer memory\n");
	return n;
}
EXPORT_SYMBOL_GPL(p2pmem_explain);

/*
 * Verdicts of devices as they come, bind and go. After the IOMMU's own
 * notifier (a verdict depends on whether the client's DMA is translated)
 * and before the DMA shim's, which runs last (INT_MIN), so a device has
 * its verdicts by the time it gets the shim.
 */
static int p2pmem_bus_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
	case BUS_NOTIFY_BIND_DRIVER:
		mutex_lock(&p2pmem_lock);
		p2pmem_verdicts_client(pdev);
		mutex_unlock(&p2pmem_lock);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		/* It may have been a bridge or a host bridge's 00.0. */
		mutex_lock(&p2pmem_lock);
		p2pmem_verdicts_refresh(pdev);
		mutex_unlock(&p2pmem_lock);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block p2pmem_bus_nb = {
	.notifier_call = p2pmem_bus_notify,
	.priority = INT_MIN + 1,
};

/**
 * p2pmem_topology_init() - start watching the PCI bus for changes
 *
 * Return: 0 or the error of bus_register_notifier().
 */
int p2pmem_topology_init(void)
{
	int ret = bus_register_notifier(&pci_bus_type, &p2pmem_bus_nb);

	if (!ret)
		WRITE_ONCE(p2pmem_topology_ready, true);
	return ret;
}

/**
 * p2pmem_topology_exit() - stop watching the PCI bus
 */
void p2pmem_topology_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &p2pmem_bus_nb);
}
