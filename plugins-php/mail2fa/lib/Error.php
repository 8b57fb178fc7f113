<?php

declare(strict_types=1);

namespace Mail2fa;

/**
 * A failure reported by the mail2fa core (`{"ok":false,"error":{"code","message"}}`) or by
 * the host library / adapter (codes such as `module_mismatch`, `module_trap`,
 * `ffi_unavailable`). `errorCode` is the stable snake_case code to branch on; the message
 * is for people and never contains a secret.
 */
final class Error extends \RuntimeException
{
    public readonly string $errorCode;

    public function __construct(string $errorCode, string $message, ?\Throwable $previous = null)
    {
        parent::__construct($message, 0, $previous);
        $this->errorCode = $errorCode;
    }

    public function getErrorCode(): string
    {
        return $this->errorCode;
    }

    /** The exception for an error response of the core or the host library. */
    public static function fromResponse(array $response): self
    {
        $error = is_array($response['error'] ?? null) ? $response['error'] : [];
        $code = is_string($error['code'] ?? null) ? $error['code'] : 'invalid_response';
        $message = is_string($error['message'] ?? null) ? $error['message'] : 'the core returned an error without a message';

        return new self($code, $message);
    }
}
