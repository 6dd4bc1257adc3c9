// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem sysfs: the p2pmem class (/sys/class/p2pmem/p2pmemN) and the
 * p2pmem/ attribute group of each provider's PCI device.
 */
#include <linux/kstrtox.h>
#include <linux/sysfs.h>

#include "p2pmem.h"

/* Attributes live on the class device and on the PCI device alike. */
static struct p2pmem_provider *p2pmem_attr_provider(struct device *dev)
{
	struct p2pmem_provider *prov;

	if (dev->class == &p2pmem_class)
		return container_of(dev, struct p2pmem_provider, dev);
	/* The group is removed before the provider goes away. */
	rcu_read_lock();
	prov = p2pmem_provider_of(to_pci_dev(dev));
	rcu_read_unlock();
	return prov;
}

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct p2pmem_provider *prov = p2pmem_attr_provider(dev);

	return sysfs_emit(buf, "%zu\n", prov ? gen_pool_size(prov->pool) : 0);
}
static DEVICE_ATTR_RO(size);

static ssize_t available_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct p2pmem_provider *prov = p2pmem_attr_provider(dev);

	return sysfs_emit(buf, "%zu\n", prov ? gen_pool_avail(prov->pool) : 0);
}
static DEVICE_ATTR_RO(available);

static ssize_t published_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct p2pmem_provider *prov = p2pmem_attr_provider(dev);

	return sysfs_emit(buf, "%d\n", prov ? READ_ONCE(prov->published) : 0);
}

static ssize_t published_store(struct device *dev,
			       struct device_attribute *attr, const char *buf,
			       size_t count)
{
	struct p2pmem_provider *prov = p2pmem_attr_provider(dev);
	bool publish;
	int ret;

	ret = kstrtobool(buf, &publish);
	if (ret)
		return ret;
	ret = p2pmem_publish(prov->pdev, publish);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(published);

/* /sys/class/p2pmem/p2pmemN/: "published" can be changed by root. */
static struct attribute *p2pmem_class_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_available.attr,
	&dev_attr_published.attr,
	NULL,
};
ATTRIBUTE_GROUPS(p2pmem_class);

struct class p2pmem_class = {
	.name = "p2pmem",
	.dev_groups = p2pmem_class_groups,
};

/* /sys/bus/pci/devices/.../p2pmem/: read-only, for existing tools. */
static struct device_attribute dev_attr_pci_published =
	__ATTR(published, 0444, published_show, NULL);

static struct attribute *p2pmem_pci_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_available.attr,
	&dev_attr_pci_published.attr,
	NULL,
};

static struct bin_attribute *p2pmem_pci_bin_attrs[] = {
	&p2pmem_bin_attr_allocate,
	NULL,
};

static const struct attribute_group p2pmem_pci_group = {
	.name = "p2pmem",
	.attrs = p2pmem_pci_attrs,
	.bin_attrs = p2pmem_pci_bin_attrs,
};

/**
 * p2pmem_sysfs_add() - link a provider's class device and PCI device
 * @prov: the provider
 *
 * Adds the "device" link of /sys/class/p2pmem/p2pmemN and the p2pmem/
 * attribute group of the PCI device.
 *
 * Return: 0 or the error of sysfs_create_group().
 */
int p2pmem_sysfs_add(struct p2pmem_provider *prov)
{
	int ret;

	ret = sysfs_create_link(&prov->dev.kobj, &prov->pdev->dev.kobj,
				"device");
	if (ret)
		return ret;
	ret = sysfs_create_group(&prov->pdev->dev.kobj, &p2pmem_pci_group);
	if (ret) {
		sysfs_remove_link(&prov->dev.kobj, "device");
		return ret;
	}
	prov->sysfs_done = true;
	return 0;
}

/**
 * p2pmem_sysfs_remove() - remove what p2pmem_sysfs_add() added
 * @prov: the provider
 */
void p2pmem_sysfs_remove(struct p2pmem_provider *prov)
{
	if (!prov->sysfs_done)
		return;
	sysfs_remove_group(&prov->pdev->dev.kobj, &p2pmem_pci_group);
	sysfs_remove_link(&prov->dev.kobj, "device");
	prov->sysfs_done = false;
}
