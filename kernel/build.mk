# kernel/build.mk - BPF programs, their skeletons and their loaders.
#
# kernel/<stream>.bpf.c -> $(O)/kernel/<stream>.bpf.o -> $(O)/kernel/<stream>.skel.h
# vmlinux.h is generated from the running kernel's BTF and never committed.

BPF_SRCS := $(wildcard kernel/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:%.bpf.c=$(O)/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:%.bpf.c=$(O)/%.skel.h)
$(eval $(call folder_library,KERNEL,kernel))
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
DEPS += $(BPF_OBJS:.o=.d)

$(O)/kernel/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(O)/kernel/%.bpf.o: kernel/%.bpf.c $(O)/kernel/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I. -I$(O)/kernel \
		-MMD -MP -c $< -o $@

$(O)/kernel/%.skel.h: $(O)/kernel/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Loaders include their skeletons.
$(KERNEL_OBJS): | $(BPF_SKELS)
