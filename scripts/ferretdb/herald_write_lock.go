package handler

// Added by Herald's build of FerretDB (see scripts/setup.mjs).

import "sync"

// heraldWriteMu makes each read-then-write command (update, findAndModify, delete) atomic
// against the others, as MongoDB's per-document atomicity requires.
var heraldWriteMu sync.Mutex
