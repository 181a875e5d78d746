# policy/: libescort-policy (parser, shell-word tokenizer, engine) + escort-policy.
# Library = every policy/*.c but main.c; it uses libescort-common (the bounded
# buffer), linked after it.  Tests by name: test_pol_*, fuzz_pol_*.
POL_LIB_SRC := $(filter-out policy/main.c,$(wildcard policy/*.c))
POL_LIB     := $(BUILD)/libescort-policy.a
$(eval $(call lib_rule,escort-policy,$(POL_LIB_SRC)))
$(eval $(call program,escort-policy,$(BUILD)/obj/policy/main.o $(POL_LIB) $(COMMON_LIB)))
$(foreach t,$(basename $(notdir $(wildcard tests/unit/test_pol_*.c))),\
  $(eval $(call unit_test,$(t),$(POL_LIB) $(COMMON_LIB))))
$(foreach t,$(basename $(notdir $(wildcard tests/fuzz/fuzz_pol_*.c))),\
  $(eval $(call fuzz_target,$(t),$(POL_LIB_SRC) $(COMMON_LIB_SRC))))
