package journal

// MaxGathered is maxGathered, for tests.
const MaxGathered = maxGathered
