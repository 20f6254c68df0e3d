export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="#4f46e5" />
      <path d="M9 20.5a7 7 0 0 1 14 0M12.5 20.5a3.5 3.5 0 0 1 7 0" fill="none" stroke="#fff" strokeWidth="2.4" strokeLinecap="round" />
      <circle cx="16" cy="11" r="2.2" fill="#fff" />
    </svg>
  );
}
