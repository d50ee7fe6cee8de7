/** Colours by name, each as `[light, dark]`. */
export type Palette = Readonly<Record<string, readonly [string, string]>>;

/**
 * Declares each colour of `palette` as a custom property `--ec-<name>` on `selector`: the light
 * colour everywhere, and `light-dark(light, dark)` where the browser has `light-dark()`, which
 * picks by the colour scheme in force (`color-scheme`, inherited from the root). A browser
 * without it keeps the light colours.
 */
export function colourProperties(selector: string, palette: Palette): string {
  const declare = (pick: (pair: readonly [string, string]) => string) =>
    `${selector}{${Object.entries(palette).map(([name, pair]) => `--ec-${name}:${pick(pair)}`).join(';')}}`;
  return `${declare(([light]) => light)}
@supports (color:light-dark(#000,#fff)){${declare(([light, dark]) => `light-dark(${light},${dark})`)}}`;
}
