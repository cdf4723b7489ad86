#!/usr/bin/env node
// The old name: `ghostfleet` acts as it (it reads its name from this file's).
import './ghostfleet.js'
