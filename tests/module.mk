# tests/: unit tests are declared by each program folder's module.mk with
# $(call unit_test,...); fuzz targets with $(call fuzz_target,...).
