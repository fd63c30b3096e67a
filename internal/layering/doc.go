// Package layering has no code of its own: its test holds the rules of
// which chatd package may depend on which, so that a change that breaks
// them fails the tests instead of slowly blurring the layers.
package layering
