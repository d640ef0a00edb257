# share/build.mk - `make install` and `make uninstall`, and what is
# installed beside the binaries.
#
# share/ mirrors PREFIX/share: each file here is installed (or, for the
# man page, generated) under the same name there. The layout:
#   $(PREFIX)/bin/memhook
#   $(PREFIX)/lib/memhook/libmemhook.so   found by memhook as ../lib/memhook
#                                        from its own folder (cli/launch.c)
#   $(PREFIX)/share/doc/memhook/          README.md and docs/*.md
#   $(PREFIX)/share/man/man1/memhook.1    from share/man/memhook.1.scd (scdoc)
#   $(PREFIX)/share/bash-completion/completions/memhook
#   $(PREFIX)/share/zsh/site-functions/_memhook
# Knobs: PREFIX (default /usr/local), DESTDIR (staging root, prepended to
# every installed path). lib/ is not a knob: the binary finds the preload
# relative to itself.

PREFIX ?= /usr/local
INSTALL ?= install
SCDOC ?= scdoc

bindir := $(DESTDIR)$(PREFIX)/bin
pkglibdir := $(DESTDIR)$(PREFIX)/lib/memhook
docdir := $(DESTDIR)$(PREFIX)/share/doc/memhook
man1dir := $(DESTDIR)$(PREFIX)/share/man/man1
bashcompdir := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
zshcompdir := $(DESTDIR)$(PREFIX)/share/zsh/site-functions

DOC_FILES := README.md $(wildcard docs/*.md)
MAN_PAGE := $(O)/memhook.1
ALL_TARGETS += $(MAN_PAGE)

.PHONY: install uninstall

$(MAN_PAGE): share/man/memhook.1.scd
	$(call msg,SCDOC,$@)
	$(Q)command -v $(SCDOC) >/dev/null || \
		{ echo "missing scdoc: install the Debian package scdoc (scripts/install-deps.sh)" >&2; exit 1; }
	$(Q)mkdir -p $(@D)
	$(Q)$(SCDOC) < $< > $@

install: $(O)/memhook $(O)/libmemhook.so $(MAN_PAGE)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(bindir) $(pkglibdir) $(docdir) $(man1dir) $(bashcompdir) $(zshcompdir)
	$(Q)$(INSTALL) -m 0755 $(O)/memhook $(bindir)/memhook
	$(Q)$(INSTALL) -m 0644 $(O)/libmemhook.so $(pkglibdir)/libmemhook.so
	$(Q)$(INSTALL) -m 0644 $(DOC_FILES) $(docdir)/
	$(Q)$(INSTALL) -m 0644 $(MAN_PAGE) $(man1dir)/memhook.1
	$(Q)$(INSTALL) -m 0644 share/bash-completion/completions/memhook $(bashcompdir)/memhook
	$(Q)$(INSTALL) -m 0644 share/zsh/site-functions/_memhook $(zshcompdir)/_memhook

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(bindir)/memhook $(pkglibdir)/libmemhook.so $(man1dir)/memhook.1 \
		$(bashcompdir)/memhook $(zshcompdir)/_memhook \
		$(addprefix $(docdir)/,$(notdir $(DOC_FILES)))
	$(Q)rmdir $(pkglibdir) $(docdir) 2>/dev/null || true
