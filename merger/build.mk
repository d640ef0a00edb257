# merger/build.mk - the merger: merge/ (one causal order), replay/ (heap,
# mappings, modules, stacks), attribution/ (kernel events and residency to
# blocks), leaks/ (verdicts, suppressions), symbols/, report/ (writers).
#
# The pprof writer's protobuf-c code is generated from
# merger/report/profile.proto into $(O)/merger/report/ (never committed).

PROTOC_C ?= protoc-c
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(if $(shell command -v $(PROTOC_C)),,$(error missing $(PROTOC_C): install the Debian package protobuf-c-compiler (scripts/install-deps.sh)))
endif

$(eval $(call folder_library,MERGER,merger))

MERGER_PROTO_OBJ := $(O)/merger/report/profile.pb-c.o
MERGER_OBJS += $(MERGER_PROTO_OBJ)
$(MERGER_LIB): $(MERGER_PROTO_OBJ)

$(O)/%.pb-c.c $(O)/%.pb-c.h: %.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(PROTOC_C) --proto_path=$(<D) --c_out=$(@D) $<

# Generated code: our warnings are not its author's.
$(MERGER_PROTO_OBJ): $(O)/merger/report/profile.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-unused-parameter -c $< -o $@

$(O)/merger/report/pprof.o: | $(O)/merger/report/profile.pb-c.h

# ---- the HTML report's assets (merger/report/html.c) ----
# npm packages, pinned and installed by scripts/install-deps.sh under
# $(VENDOR), and the view's own script and style, are assembled into
# memhook with .incbin, each as a NUL-terminated mh_html_<name>[].
# <name>:<file>:<what provides it>
VENDOR ?= vendor/node_modules
HTML_ASSETS := \
	d3_js:$(VENDOR)/d3/dist/d3.min.js:npm-package-d3 \
	d3_license:$(VENDOR)/d3/LICENSE:npm-package-d3 \
	flamegraph_js:$(VENDOR)/d3-flame-graph/dist/d3-flamegraph.umd.min.js:npm-package-d3-flame-graph \
	flamegraph_license:$(VENDOR)/d3-flame-graph/LICENSE:npm-package-d3-flame-graph \
	uplot_js:$(VENDOR)/uplot/dist/uPlot.iife.min.js:npm-package-uplot \
	uplot_css:$(VENDOR)/uplot/dist/uPlot.min.css:npm-package-uplot \
	uplot_license:$(VENDOR)/uplot/LICENSE:npm-package-uplot \
	view_js:merger/report/html/view.js:the-source-tree \
	view_css:merger/report/html/view.css:the-source-tree
html_asset = $(word $(2),$(subst :, ,$(1)))
HTML_ASSET_FILES := $(foreach a,$(HTML_ASSETS),$(call html_asset,$(a),2))
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(foreach a,$(HTML_ASSETS),$(if $(wildcard $(call html_asset,$(a),2)),,\
	$(error missing $(subst -, ,$(call html_asset,$(a),3)) ($(call html_asset,$(a),2)): run scripts/install-deps.sh)))
endif

HTML_ASSETS_OBJ := $(O)/merger/report/html_assets.o
MERGER_OBJS += $(HTML_ASSETS_OBJ)
$(MERGER_LIB): $(HTML_ASSETS_OBJ)

$(O)/merger/report/html_assets.S: merger/build.mk
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ printf '\t.section .rodata\n'; \
	$(foreach a,$(HTML_ASSETS),printf '\t.global mh_html_%s\n\t.type mh_html_%s, @object\nmh_html_%s:\n\t.incbin "%s"\n\t.byte 0\n' \
		$(call html_asset,$(a),1) $(call html_asset,$(a),1) $(call html_asset,$(a),1) \
		$(abspath $(call html_asset,$(a),2));) \
	printf '\t.section .note.GNU-stack,"",@progbits\n'; } > $@

$(HTML_ASSETS_OBJ): $(O)/merger/report/html_assets.S $(HTML_ASSET_FILES)
	$(call msg,AS,$@)
	$(Q)$(CC) -c $< -o $@
