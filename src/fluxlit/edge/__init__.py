"""The edge: FluxLit's own client connection under ``fluxlit run``, and the splice lane for proxied traffic."""
