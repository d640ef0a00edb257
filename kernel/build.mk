# kernel/build.mk - BPF programs, their skeletons and their loaders.
#
# kernel/<stream>.bpf.c -> $(O)/kernel/<stream>.bpf.o, all of them linked
# (bpftool gen object) -> $(O)/kernel/streams.bpf.o -> $(O)/kernel/streams.skel.h
# One object, so that libbpf reads the kernel's BTF, relocates and loads
# once per run; each kernel/<stream>.c reaches its programs and rodata
# through the skeleton's names.
# vmlinux.h is generated from the running kernel's BTF and never committed.

BPF_SRCS := $(wildcard kernel/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:%.bpf.c=$(O)/%.bpf.o)
BPF_SKELS := $(O)/kernel/streams.skel.h
$(eval $(call folder_library,KERNEL,kernel))
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# -mcpu=v3: compare-and-swap (kernel/common.bpf.h's cached vmas; Linux 5.12 and later).
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Iinclude -I. -I$(O)/kernel -MMD -MP
DEPS += $(BPF_OBJS:.o=.d)

$(O)/kernel/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(O)/kernel/%.bpf.o: kernel/%.bpf.c $(O)/kernel/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/kernel/streams.bpf.o: $(BPF_OBJS)
	$(call msg,BPFLINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(O)/kernel/streams.skel.h: $(O)/kernel/streams.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name streams_bpf > $@

# Loaders include their skeletons.
$(KERNEL_OBJS): | $(BPF_SKELS)
