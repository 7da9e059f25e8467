#!/bin/bash
echo "run: not yet implemented" >&2
exit 1
