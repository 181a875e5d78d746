# replay/: escort-replay, reading recordings through libescort-recorder (and
# libescort-policy for what-if questions, libescort-xfer to rebuild files).  Tests by name: test_replay_*.
REPLAY_SRC := $(wildcard replay/*.c)
$(eval $(call program,escort-replay,$(patsubst %.c,$(BUILD)/obj/%.o,$(REPLAY_SRC)) $(XFER_LIB) $(REC_LIB) $(POL_LIB) $(COMMON_LIB)))
$(foreach t,$(basename $(notdir $(wildcard tests/unit/test_replay_*.c))),\
  $(eval $(call unit_test,$(t),$(REC_LIB) $(POL_LIB) $(COMMON_LIB))))
