# A thin layer over Meson for those who type `make`.
.PHONY: all demo check test lint fix clean bench
all:
	@[ -f build/build.ninja ] || meson setup build
	ninja -C build
demo:
	sh scripts/demo.sh
check test:
	bash scripts/check.sh
lint:
	bash scripts/lint.sh format && bash scripts/lint.sh tidy
fix:
	bash scripts/lint.sh fix
bench: all
	bash bench/run.sh
clean:
	rm -rf build build-asan build-fuzz
