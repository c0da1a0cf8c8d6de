print("nfn")
