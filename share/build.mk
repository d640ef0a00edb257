# share/build.mk - `make install` and `make uninstall`, and what is
# installed beside the binaries.
#
# share/ mirrors PREFIX/share: each file here is installed (or, for the
# man page, generated) under the same name there. The layout:
#   $(PREFIX)/bin/memhook
#   $(PREFIX)/lib/memhook/libmemhook.so   found by memhook as ../lib/memhook
#                                        from its own folder (cli/launch.c)
#   $(PREFIX)/share/doc/memhook/          README.md and docs/*.md
# Knobs: PREFIX (default /usr/local), DESTDIR (staging root, prepended to
# every installed path). lib/ is not a knob: the binary finds the preload
# relative to itself.

PREFIX ?= /usr/local
INSTALL ?= install

bindir := $(DESTDIR)$(PREFIX)/bin
pkglibdir := $(DESTDIR)$(PREFIX)/lib/memhook
docdir := $(DESTDIR)$(PREFIX)/share/doc/memhook

DOC_FILES := README.md $(wildcard docs/*.md)

.PHONY: install uninstall

install: $(O)/memhook $(O)/libmemhook.so
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(bindir) $(pkglibdir) $(docdir)
	$(Q)$(INSTALL) -m 0755 $(O)/memhook $(bindir)/memhook
	$(Q)$(INSTALL) -m 0644 $(O)/libmemhook.so $(pkglibdir)/libmemhook.so
	$(Q)$(INSTALL) -m 0644 $(DOC_FILES) $(docdir)/

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(bindir)/memhook $(pkglibdir)/libmemhook.so \
		$(addprefix $(docdir)/,$(notdir $(DOC_FILES)))
	$(Q)rmdir $(pkglibdir) $(docdir) 2>/dev/null || true
