# merger/build.mk - the merger: merge/ (one causal order), replay/ (heap,
# mappings, modules, stacks), attribution/ (kernel events and residency to
# blocks), leaks/ (verdicts, suppressions), symbols/, report/ (writers).

$(eval $(call folder_library,MERGER,merger))
