// Transitional: this module still registers from index.ts, which loads its implementation eagerly.
// TODO(#19/#20): schemas here, implementation imported by each command's run.
import './index.ts';
