// traffic's input-file error: an InputFileError (exit 4, HTTP 422) that names the file, the place
// (line, record, row or point) and the field, and says what was expected — never the file's text.
import { InputFileError } from '../../core/errors.ts';

export class TrafficInputError extends InputFileError {
  constructor(file: string, readonly where: string, readonly field: string | null, detail: string) {
    super(`${file}${where ? `:${where}` : ''}: ${field ? `field '${field}': ` : ''}${detail}`, { file });
  }
}
