// SPDX-License-Identifier: GPL-2.0
/*
 * Page-backed kernel buffers shared with userspace through mmap(): the
 * rings, the SQE array and activation arenas. Pages are charged to the
 * caller's memory cgroup and mapped into the kernel with vmap().
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "bitnet_priv.h"

int bitnet_kbuf_alloc(struct bitnet_kbuf *kb, size_t size)
{
	unsigned int i, n;

	if (!size || size > (size_t)UINT_MAX * PAGE_SIZE)
		return -EINVAL;
	n = DIV_ROUND_UP(size, PAGE_SIZE);
	kb->pages = kvcalloc(n, sizeof(*kb->pages), GFP_KERNEL_ACCOUNT);
	if (!kb->pages)
		return -ENOMEM;
	kb->nr_pages = n;
	for (i = 0; i < n; i++) {
		kb->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!kb->pages[i])
			goto fail;
	}
	kb->vaddr = vmap(kb->pages, n, VM_MAP, PAGE_KERNEL);
	if (!kb->vaddr)
		goto fail;
	return 0;
fail:
	bitnet_kbuf_free(kb);
	return -ENOMEM;
}

void bitnet_kbuf_free(struct bitnet_kbuf *kb)
{
	unsigned int i;

	if (kb->vaddr)
		vunmap(kb->vaddr);
	/* User mappings hold their own page references. */
	for (i = 0; kb->pages && i < kb->nr_pages; i++)
		if (kb->pages[i])
			__free_page(kb->pages[i]);
	kvfree(kb->pages);
	kb->pages = NULL;
	kb->vaddr = NULL;
	kb->nr_pages = 0;
}

int bitnet_kbuf_mmap(struct bitnet_kbuf *kb, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;

	/* Private mappings would copy on write and hide the kernel's updates. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (len > (unsigned long)kb->nr_pages << PAGE_SHIFT)
		return -EINVAL;
	return vm_map_pages_zero(vma, kb->pages, len >> PAGE_SHIFT);
}
