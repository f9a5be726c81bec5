export { type ConfigNode, parseBlocks } from './block-parser.ts';
export { type ConvertResult, convertKeepalived } from './convert.ts';
export { KEEPALIVED_CODES, type KeepalivedIssue, type SourcePos } from './diagnostics.ts';
export {
  createMemoryIo,
  DEFAULT_INCLUDE_LIMITS,
  type ExpandedSource,
  expandIncludes,
  type IncludeIo,
  type IncludeLimits,
} from './include.ts';
export {
  createLexState,
  type IncludeDirective,
  type LexItem,
  type LexOptions,
  type LexState,
  lex,
  type Token,
  tokenize,
} from './lexer.ts';
export {
  defaultInstanceId,
  diskIncludeIo,
  type KeepalivedParseOptions,
  loadKeepalivedConfigFile,
  parseKeepalivedConfig,
} from './load-keepalived.ts';
