# preload/build.mk - libmemhook.so, the LD_PRELOAD library.
#
# hooks.c and exit.c hold the interposed libc names; everything else in preload/ is
# the recording core, also linked into the unit tests (and ring.c into the
# recorder, which is the ring's consumer).

PRELOAD_SRCS := $(wildcard preload/*.c)
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(O)/%.pic.o)
PRELOAD_CORE_OBJS := $(filter-out $(O)/preload/hooks.pic.o $(O)/preload/exit.pic.o,$(PRELOAD_OBJS))
RING_OBJ := $(O)/preload/ring.pic.o
PRELOAD_LIBS := $(call pc_libs,libunwind) -ldl -lpthread
DEPS += $(PRELOAD_OBJS:.o=.d)

ifneq ($(PRELOAD_SRCS),)
ALL_TARGETS += $(O)/libmemhook.so
endif

# Hidden visibility: the library exports only what libmemhook.map lists.
# --no-undefined: it links nothing of the tool's libraries (common/ gives it
# headers only).
# initial-exec TLS: a first access never detours through the loader and
# into malloc (see struct mh_thread in preload/core.h).
PRELOAD_CFLAGS := -fPIC -fvisibility=hidden -ftls-model=initial-exec

$(O)/preload/%.pic.o: preload/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(PRELOAD_CFLAGS) -c $< -o $@

$(O)/libmemhook.so: $(PRELOAD_OBJS) preload/libmemhook.map
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared -o $@ $(PRELOAD_OBJS) -Wl,--version-script=preload/libmemhook.map \
		-Wl,-z,now -Wl,-z,nodelete -Wl,--no-undefined $(PRELOAD_LIBS)
