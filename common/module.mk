# common/: libescort-common, the helpers every program uses: the bounded
# buffer (buf), CRC-32C, TLS over memory BIOs (tlsl), clocks, session ids and
# the table-driven configuration-file reader (cfg), with its own error space
# (esc_error).  It depends on no other Escort library.  Link it after them.
# Unit tests tests/unit/test_common_*.c are picked up by name.
COMMON_LIB_SRC := $(wildcard common/*.c)
COMMON_LIB     := $(BUILD)/libescort-common.a
$(eval $(call lib_rule,escort-common,$(COMMON_LIB_SRC)))
$(foreach t,$(basename $(notdir $(wildcard tests/unit/test_common_*.c))),\
  $(eval $(call unit_test,$(t),$(COMMON_LIB))))
