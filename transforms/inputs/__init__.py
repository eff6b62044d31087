"""Pure input code (no Beam): paths, folder layouts, listing files, splits -> ImageRefs."""
