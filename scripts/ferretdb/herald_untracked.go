package resource

// Added by Herald's build of FerretDB (see scripts/setup.mjs).

// heraldUntracked turns Track and Untrack off. They are leak detection for FerretDB's developers:
// each iterator recorded its creator's stack in a pprof profile and got a finalizer that panics
// (stopping the server) when it is collected without Untrack. That cost about a seventh of the CPU
// of a find by _id, on every query, and a missed Untrack should leak, not crash the database.
const heraldUntracked = true
