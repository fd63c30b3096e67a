# The two ways to run the tests. make test is the quick one while working:
# the PostgreSQL and Chromium tests skip when neither is at hand. make ci
# is everything CI runs (.ci/run calls scripts/test): formatting, go vet,
# golangci-lint, and every test with the race detector against a real
# PostgreSQL and Chromium.
.PHONY: test lint ci

test:
	go test ./...

lint:
	./scripts/lint

ci:
	./scripts/test
